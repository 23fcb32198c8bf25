// The portal's player: one <audio>/<video> and the transcript that follows it.
//
// A Streamlit components-v2 component (shadow DOM). Streamlit calls this function again on every
// rerun with new `data`; everything is kept on the root element so that the media element is made
// once per source (the player never reloads on a rerun) and the transcript is fetched once per
// revision from the archive's own signed URL. Python hears about the position only on a click on
// a timestamp and on pause (`setStateValue("position", …)`), never on every timeupdate.
//
// data: {src, kind: "video"|"audio", mime, cues_url, seek: {t, n, play}, mode: "zh"|"en"|"both",
//        find, labels: {...}, tracks: [{src, srclang, label, kind}]}

function fmt(t) {
  t = Math.max(0, Math.floor(t || 0));
  const h = Math.floor(t / 3600), m = Math.floor((t % 3600) / 60), s = t % 60;
  const mm = h ? String(m).padStart(2, "0") : String(m);
  return (h ? h + ":" : "") + mm + ":" + String(s).padStart(2, "0");
}

function indexAt(cues, t) {
  // The last cue starting at or before t (binary search); -1 before the first.
  let lo = 0, hi = cues.length - 1, found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    // One millisecond of slack, as archive.core.moments.MOMENT_EPSILON in Python.
    if (cues[mid][0] <= t + 0.001) { found = mid; lo = mid + 1; } else { hi = mid - 1; }
  }
  return found;
}

const ESC = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
function esc(text) {
  return String(text).replace(/[&<>"']/g, (c) => ESC[c]);
}

function marked(text, needle) {
  // The text, escaped, with every (case-insensitive) occurrence of needle in <mark>.
  if (!needle) return esc(text);
  const low = text.toLowerCase();
  let at = 0, out = "";
  for (;;) {
    const i = low.indexOf(needle, at);
    if (i < 0) break;
    out += esc(text.slice(at, i)) + "<mark>" + esc(text.slice(i, i + needle.length)) + "</mark>";
    at = i + needle.length;
  }
  return out + esc(text.slice(at));
}

function report(S, t) {
  // To the millisecond, rounded up (as archive.core.moments.moment_param): a position rounded to
  // the tenth could fall before the segment clicked and make Python quote the one before it.
  const raw = Math.max(0, t ?? (S.media ? S.media.currentTime : 0));
  const pos = Math.ceil(Math.round(raw * 1e6) / 1e3) / 1e3;
  if (S.lastReported === pos) return;
  S.lastReported = pos;
  if (S.setStateValue) S.setStateValue("position", pos);
}

function highlight(S, force) {
  const t = S.pending != null && (!S.media || S.media.readyState < 1) ? S.pending : (S.media ? S.media.currentTime : 0);
  const i = indexAt(S.cues, t);
  if (i === S.cur && !force) return;
  const old = S.rowByIndex[S.cur];
  if (old) { old.classList.remove("current"); old.removeAttribute("aria-current"); }
  S.cur = i;
  S.root.dataset.current = String(i);
  const row = S.rowByIndex[i];
  if (!row) return;
  row.classList.add("current");
  row.setAttribute("aria-current", "true");
  if (Date.now() > S.followPausedUntil) {
    const list = S.list;
    const r = row.getBoundingClientRect(), lr = list.getBoundingClientRect();
    if (lr.height > 0 && (r.top < lr.top || r.bottom > lr.bottom || force)) {
      list.scrollTop += (r.top - lr.top) - lr.height * 0.3;
    }
  }
}

function applySeek(S) {
  const m = S.media;
  if (S.pending == null || !m) return;
  if (m.readyState < 1) { highlight(S, true); return; } // wait for loadedmetadata
  const t = S.pending;
  S.pending = null;
  try { m.currentTime = t; } catch (e) { /* not seekable yet */ }
  highlight(S, true);
  if (S.autoplay) {
    S.autoplay = false;
    const p = m.play();
    if (p && p.catch) p.catch(() => { S.root.dataset.autoplay = "blocked"; });
  }
}

function render(S) {
  // One HTML string parsed once: a two-hour talk (1,500 rows) renders in a few tens of ms.
  const d = S.data, L = d.labels || {};
  const needle = (d.find || "").trim().toLowerCase();
  const mode = d.mode || "both";
  S.mode = mode; S.find = d.find || "";
  const list = S.list;
  const cues = S.cues;
  const playFrom = esc(L.play_from || "Play from");
  const parts = [];
  let shown = 0, lastSpeaker = "";
  for (let i = 0; i < cues.length; i++) {
    const c = cues[i];
    const zh = c[2] || "", en = c[3] || "", redacted = c[6];
    if (needle) {
      const hay = ((mode !== "en" ? zh : "") + "\n" + (mode !== "zh" ? en : "")).toLowerCase();
      if (hay.indexOf(needle) < 0) continue;
    }
    const ts = fmt(c[0]);
    // The speaker is named where a turn begins (c[8]); in a filtered list, where the speaker
    // differs from the row shown above, so every shown row can be told who said it.
    const turn = needle ? Boolean(c[5]) && c[5] !== lastSpeaker : Boolean(c[8]);
    lastSpeaker = c[5] || "";
    let body = turn ? '<span class="hkp-speaker">' + esc(c[5]) + "</span>" : "";
    if (redacted && !zh && !en) {
      body += '<p class="hkp-redacted">' + esc(L.redacted || "[removed]") + "</p>";
    } else {
      if (mode !== "en") {
        body += zh ? '<p class="zh" lang="zh-Hant-HK">' + marked(zh, needle) + "</p>"
          : '<p class="zh missing">' + esc(L.no_zh || "—") + "</p>";
      }
      if (mode !== "zh") {
        const mt = c[7] ? ' <span class="hkp-mt">' + esc(L.machine || "MT") + "</span>" : "";
        body += en ? '<p class="en" lang="en">' + marked(en, needle) + mt + "</p>"
          : '<p class="en missing">' + esc(L.no_en || "—") + "</p>";
      }
    }
    parts.push(
      '<div class="hkp-row' + (turn ? " hkp-turn" : "") + '" role="listitem" data-i="' + i + '" data-start="' + c[0] + '">' +
      '<button type="button" class="hkp-ts" data-i="' + i + '" aria-label="' + playFrom + " " + ts + '">' +
      ts + '</button><div class="hkp-text">' + body + "</div></div>"
    );
    shown++;
  }
  if (!shown) {
    parts.push('<p class="hkp-empty">' + esc(needle ? (L.no_matches || "No matches") : (L.empty || "No transcript")) + "</p>");
  }
  list.innerHTML = parts.join("");
  list.scrollTop = 0; // the current segment, when listed, is scrolled to just below
  S.rowByIndex = {};
  for (const row of list.children) {
    if (row.dataset.i !== undefined) S.rowByIndex[row.dataset.i] = row;
  }
  list.setAttribute("aria-busy", "false");
  S.root.dataset.rows = String(shown);
  S.root.dataset.ready = "1";
  S.cur = -2;
  highlight(S, true);
}

export default function (component) {
  const { data, parentElement, setStateValue } = component;
  const root = parentElement.querySelector(".hkp");
  if (!root || !data) return;
  const S = root.__hkp || (root.__hkp = {
    root, src: null, cuesUrl: null, cues: [], rowByIndex: {}, cur: -2, seekN: null,
    mode: null, find: null, followPausedUntil: 0, pending: null, lastReported: null,
  });
  S.data = data;
  S.setStateValue = setStateValue;
  S.list = root.querySelector(".hkp-cues");
  const L = data.labels || {};
  S.list.setAttribute("aria-label", L.transcript || "Transcript");

  if (!S.bound) {
    S.bound = true;
    S.list.addEventListener("click", (e) => {
      const b = e.target.closest(".hkp-ts");
      if (!b) return;
      const c = S.cues[Number(b.dataset.i)];
      if (!c || !S.media) return;
      S.pending = c[0];
      S.autoplay = true;
      S.followPausedUntil = 0;
      applySeek(S);
      report(S, c[0]);
    });
    const pause = () => { S.followPausedUntil = Date.now() + 5000; };
    S.list.addEventListener("wheel", pause, { passive: true });
    S.list.addEventListener("touchmove", pause, { passive: true });
  }

  if (S.src !== data.src) {
    const box = root.querySelector(".hkp-media");
    box.textContent = "";
    if (data.src) {
      const m = document.createElement(data.kind === "video" ? "video" : "audio");
      m.className = "hkp-el";
      m.controls = true;
      m.preload = "metadata";
      m.setAttribute("playsinline", "");
      m.setAttribute("aria-label", L.player || "Player");
      m.addEventListener("loadedmetadata", () => applySeek(S));
      m.addEventListener("timeupdate", () => highlight(S, false));
      m.addEventListener("seeked", () => highlight(S, false));
      m.addEventListener("pause", () => { if (!m.ended && !m.seeking) report(S); });
      m.addEventListener("error", () => { root.dataset.mediaError = "1"; });
      m.src = data.src;
      box.appendChild(m);
      S.media = m;
    } else {
      const p = document.createElement("p");
      p.className = "hkp-nomedia";
      p.textContent = L.no_media || "";
      box.appendChild(p);
      S.media = null;
    }
    S.src = data.src;
    S.tracksKey = null;
  }

  // A video's captions and subtitles (<track>, WebVTT from the archive's own route), replaced
  // only when they change (a new revision), so a rerun never disturbs the one being shown.
  const tracks = S.media && S.media.tagName === "VIDEO" ? data.tracks || [] : [];
  const tracksKey = JSON.stringify(tracks);
  if (S.media && S.tracksKey !== tracksKey) {
    S.tracksKey = tracksKey;
    for (const old of S.media.querySelectorAll("track")) old.remove();
    for (const tr of tracks) {
      const el = document.createElement("track");
      el.kind = tr.kind; el.src = tr.src; el.srclang = tr.srclang; el.label = tr.label;
      S.media.appendChild(el);
    }
  }

  if (data.seek && S.seekN !== data.seek.n) {
    S.seekN = data.seek.n;
    S.pending = data.seek.t;
    S.autoplay = !!data.seek.play;
    applySeek(S);
  }

  if (S.cuesUrl !== data.cues_url) {
    S.cuesUrl = data.cues_url;
    S.cues = [];
    S.list.setAttribute("aria-busy", "true");
    const url = data.cues_url;
    if (!url) { render(S); return; }
    fetch(url, { credentials: "same-origin" })
      .then((r) => (r.ok ? r.json() : Promise.reject(r.status)))
      .then((j) => { if (S.cuesUrl === url) { S.cues = j.cues || []; render(S); } })
      .catch(() => {
        const p = document.createElement("p");
        p.className = "hkp-empty";
        p.textContent = L.load_error || "The transcript could not be loaded.";
        S.list.replaceChildren(p);
      });
  } else if (S.root.dataset.ready === "1" && (S.mode !== (data.mode || "both") || S.find !== (data.find || ""))) {
    render(S);
  }
}
