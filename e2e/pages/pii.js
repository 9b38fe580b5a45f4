document.getElementById('track').addEventListener('click', function () {
  cpx('track', 'signup_hedy.lamarr@film.example');
  cpx('track', 'signup', {email: 'linus@kernel.example', note: 'call me on +33 1 23 45 67 89',
    address: '221B Baker Street, London NW1 6XE', order_id: 'ORDER-katherine.johnson@nasa.example'});
});
