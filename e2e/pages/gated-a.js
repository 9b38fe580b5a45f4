window.order.push('a');
document.cookie = '_demo_stats_seen=1; path=/';
