// Draws every chart of the page with vega-embed; sets body[data-charts] to
// 'done' when all are drawn (the browser test waits for it).
(function () {
  var views = window.espfleetViews = {};
  var figures = document.querySelectorAll('[data-spec]');
  var pending = figures.length;
  function done() { pending -= 1; if (pending === 0) { document.body.dataset.charts = 'done'; } }
  if (pending === 0) { document.body.dataset.charts = 'done'; }
  figures.forEach(function (el) {
    var spec = JSON.parse(document.getElementById(el.dataset.spec).textContent);
    vegaEmbed(el, spec, {renderer: 'svg', actions: false})
      .then(function (result) { views[el.id] = result.view; el.dataset.rendered = 'yes'; done(); })
      .catch(function (error) {
        console.error('chart ' + el.id + ': ' + error);
        el.textContent = 'This chart could not be drawn: ' + error;
        el.dataset.rendered = 'failed';
        done();
      });
  });
})();
