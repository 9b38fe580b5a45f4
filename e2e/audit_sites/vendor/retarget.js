// A retargeting script that counts the visitor's visits in its own key.
localStorage.setItem('retarget_visits', String(+(localStorage.getItem('retarget_visits') || 0) + 1));
