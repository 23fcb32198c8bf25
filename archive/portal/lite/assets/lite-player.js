// The light item page's only script: while the recording plays, mark the transcript row being
// spoken, and let a row's time link seek in place. The page works fully without it: the rows are
// ordinary links (?t=SECONDS) and the player a native <audio controls>.
(function () {
  "use strict";
  var player = document.getElementById("player");
  var rows = Array.prototype.slice.call(document.querySelectorAll("ol.segments li[data-start]"));
  if (!player || !rows.length) return;
  var current = rows.filter(function (r) { return r.classList.contains("current"); })[0] || null;

  function rowAt(t) {
    var found = null;
    for (var i = 0; i < rows.length; i++) {
      var start = parseFloat(rows[i].dataset.start);
      var end = parseFloat(rows[i].dataset.end);
      if (start <= t + 0.001 && t < end) found = rows[i];
      if (start > t + 0.001) break;
    }
    return found;
  }

  function mark(row) {
    if (row === current || !row) return;
    if (current) { current.classList.remove("current"); current.removeAttribute("aria-current"); }
    row.classList.add("current");
    row.setAttribute("aria-current", "true");
    current = row;
  }

  player.addEventListener("timeupdate", function () { mark(rowAt(player.currentTime)); });

  rows.forEach(function (row) {
    var link = row.querySelector("a.ts");
    if (!link) return;
    link.addEventListener("click", function (event) {
      if (event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) return;
      event.preventDefault();
      var start = parseFloat(row.dataset.start);
      player.currentTime = start;
      mark(row);
      if (window.history && history.replaceState) history.replaceState(null, "", link.href);
      var playing = player.play();
      if (playing && playing.catch) playing.catch(function () {});
    });
  });
})();
