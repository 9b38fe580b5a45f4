window.order.push('c');
