// The item page: start the player at #t=SECONDS, follow the transcript while it plays.
// Plain script, no modules, so that the page also works opened straight from a USB stick (file://).
(function () {
  "use strict";
  var audio = document.getElementById("player");
  var segments = Array.prototype.slice.call(document.querySelectorAll("ol.segments li[data-start]"));
  var momentLink = document.getElementById("moment-link");
  var current = null;

  function parseTime(hash) {
    var match = /(?:^#|[#&])t=([0-9:.]+)/.exec(hash || "");
    if (!match) return null;
    var parts = match[1].split(":").map(Number);
    var seconds = 0;
    for (var i = 0; i < parts.length; i++) {
      if (isNaN(parts[i])) return null;
      seconds = seconds * 60 + parts[i];
    }
    return seconds;
  }

  function segmentAt(t, jumped) {
    var found = null;
    for (var i = 0; i < segments.length; i++) {
      var start = parseFloat(segments[i].dataset.start);
      // A link to a whole second (a citation's ?t=8) means the sentence that starts in it.
      if (jumped && start > t && Math.floor(start) === Math.floor(t)) return segments[i];
      if (start <= t + 0.001) found = segments[i];
      else break;
    }
    return found;
  }

  function mark(t, scroll) {
    var seg = segmentAt(t, scroll);
    if (seg !== current) {
      if (current) current.classList.remove("current");
      if (seg) seg.classList.add("current");
      current = seg;
    }
    if (seg && scroll) seg.scrollIntoView({ block: "center" });
    if (momentLink) {
      // The sentence's own start when one is marked, to the millisecond and rounded up (as the
      // archive's moment_param), so the link opens this sentence and not the one before it.
      var at = seg ? parseFloat(seg.dataset.start) : t;
      var exact = String(Math.ceil(Math.round(Math.max(0, at) * 1e6) / 1e3) / 1e3);
      momentLink.href = "#t=" + exact;
      momentLink.textContent = location.href.split("#")[0] + "#t=" + exact;
    }
  }

  // A server without range requests (python -m http.server, some USB-stick servers) gives a
  // file the browser will not seek in. Then the recording is read whole into memory once and
  // played from there, where every second can be reached.
  var local = null;
  function seekable() {
    return audio.seekable.length > 0 && audio.seekable.end(audio.seekable.length - 1) >= audio.duration - 1;
  }
  function makeSeekable() {
    if (!local) {
      local = fetch(audio.currentSrc || audio.src)
        .then(function (response) { return response.blob(); })
        .then(function (blob) {
          return new Promise(function (resolve) {
            audio.addEventListener("loadedmetadata", resolve, { once: true });
            audio.src = URL.createObjectURL(blob);
          });
        });
    }
    return local;
  }

  function seek(t, scroll) {
    mark(t, scroll);
    if (!audio) return;
    document.body.dataset.startAt = String(t);
    function go() {
      if (t > 0 && !seekable() && /^https?:/.test(location.protocol)) {
        makeSeekable().then(function () { audio.currentTime = t; });
      } else {
        audio.currentTime = t;
      }
    }
    if (audio.readyState >= 1) go();
    else audio.addEventListener("loadedmetadata", go, { once: true });
  }

  window.addEventListener("hashchange", function () {
    var t = parseTime(location.hash);
    if (t !== null) seek(t, true);
  });
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("a.ts");
    if (link && audio && link.getAttribute("href") === location.hash) {
      // The same moment clicked again: no hashchange event, so seek here.
      event.preventDefault();
      seek(parseTime(link.getAttribute("href")), false);
    }
  });
  if (audio) {
    // Follow the recording while it plays (a paused player keeps the sentence a link chose).
    audio.addEventListener("timeupdate", function () { if (!audio.paused) mark(audio.currentTime, false); });
    // The player's own scrubber needs the same help as #t= links.
    audio.addEventListener("seeking", function () {
      var wanted = audio.currentTime;
      if (!seekable() && /^https?:/.test(location.protocol) && wanted > 0) {
        makeSeekable().then(function () { audio.currentTime = wanted; });
      }
    });
  }
  var start = parseTime(location.hash);
  if (start !== null) seek(start, true);
  else mark(0, false);
})();
