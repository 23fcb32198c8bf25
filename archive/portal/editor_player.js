// The transcript editor's player: the staff recording, following the segment being edited.
//
// A Streamlit components-v2 component (shadow DOM, in the page itself, no iframe), apart from the
// reader's player (portal_player.js). Streamlit calls this function again on every rerun with new
// `data`; the media element is made once per source, so typing and saving never reload it.
//
// data: {src, kind: "video"|"audio", segments: {uid: [start, end]}, line: {uid, start, end, n, play},
//        labels: {...}}
//
// The line is the segment being edited: the one whose "Listen" button was pressed last (`line`,
// a new `n` each time), or the one whose text field has the keyboard focus (any field the page
// keys `ed_<field>_<revision>_<uid>`). "Play this line" plays from its start and stops at its end;
// "Replay 5 s" goes back five seconds and plays on. Shortcuts work while typing, and are keys that
// type nothing and no browser or input method takes: Alt+P play/pause, Alt+L play this line,
// Alt+R replay the last 5 s (e.code, so Option on a Mac types no character instead).

const STOP_SLACK = 0.005; // seconds: a stop is never more than a frame late, never early

function stamp(t) {
  const c = Math.max(0, Math.round((t || 0) * 100));
  const m = Math.floor(c / 6000), s = Math.floor((c % 6000) / 100), h = c % 100;
  return m + ":" + String(s).padStart(2, "0") + "." + String(h).padStart(2, "0");
}

function setLine(S, line, seek) {
  if (!line) return;
  const same = S.line && S.line.uid === line.uid && S.line.start === line.start;
  S.line = { uid: line.uid, start: Number(line.start), end: Number(line.end) };
  S.lineLabel.textContent = (S.L.line || "Line") + " " + stamp(S.line.start) + "–" + stamp(S.line.end);
  S.root.dataset.lineStart = String(S.line.start);
  S.root.dataset.lineEnd = String(S.line.end);
  S.root.dataset.lineUid = S.line.uid || "";
  if (seek && !same && S.media && S.media.paused) {
    S.stopAt = null;
    goTo(S, S.line.start);
  }
}

function goTo(S, t) {
  const m = S.media;
  if (!m) return;
  if (m.readyState < 1) { S.pendingSeek = t; return; }
  m.currentTime = Math.max(0, t);
}

function watchStop(S) {
  // Polled each frame while a line plays: timeupdate comes only every quarter second or so.
  const m = S.media;
  if (!m || S.stopAt == null) return;
  if (m.currentTime >= S.stopAt - STOP_SLACK) {
    m.pause();
    S.stopAt = null;
    S.root.dataset.stoppedAt = String(m.currentTime);
    return;
  }
  if (!m.paused) requestAnimationFrame(() => watchStop(S));
}

function playLine(S) {
  const m = S.media;
  if (!m || !S.line) return;
  S.stopAt = S.line.end;
  goTo(S, S.line.start);
  m.play().then(() => watchStop(S)).catch(() => {});
}

function replay(S) {
  const m = S.media;
  if (!m) return;
  goTo(S, m.currentTime - 5);
  m.play().then(() => watchStop(S)).catch(() => {});
}

function toggle(S) {
  const m = S.media;
  if (!m) return;
  if (m.paused) { S.stopAt = null; m.play().catch(() => {}); } else { m.pause(); }
}

function focusedUid(S, target) {
  // The segment of the field that has the focus: the `st-key-ed_<field>_<rev>_<uid>` around it.
  let el = target;
  while (el && el !== document.body) {
    for (const name of el.classList || []) {
      if (name.startsWith("st-key-ed_")) {
        const uid = name.slice(name.lastIndexOf("_") + 1);
        if (S.data && S.data.segments && S.data.segments[uid]) return uid;
      }
    }
    el = el.parentElement;
  }
  return null;
}

export default function (component) {
  const { data, parentElement } = component;
  const root = parentElement.querySelector(".hke");
  if (!root || !data) return;
  const S = root.__hke || (root.__hke = { root, src: null, lineN: null, stopAt: null });
  S.data = data;
  S.L = data.labels || {};
  S.lineLabel = root.querySelector(".hke-line");
  const buttons = {
    play: root.querySelector(".hke-play"),
    line: root.querySelector(".hke-playline"),
    back: root.querySelector(".hke-back"),
  };
  buttons.play.textContent = S.L.play_pause || "Play / pause";
  buttons.line.textContent = S.L.play_line || "Play this line";
  buttons.back.textContent = S.L.replay || "Replay 5 s";
  buttons.play.setAttribute("aria-keyshortcuts", "Alt+P");
  buttons.line.setAttribute("aria-keyshortcuts", "Alt+L");
  buttons.back.setAttribute("aria-keyshortcuts", "Alt+R");

  if (!S.bound) {
    S.bound = true;
    buttons.play.addEventListener("click", () => toggle(S));
    buttons.line.addEventListener("click", () => playLine(S));
    buttons.back.addEventListener("click", () => replay(S));
    S.onKey = (e) => {
      if (!root.isConnected) { document.removeEventListener("keydown", S.onKey, true); return; }
      if (!e.altKey || e.ctrlKey || e.metaKey || e.shiftKey) return;
      const act = { KeyP: toggle, KeyL: playLine, KeyR: replay }[e.code];
      if (!act) return;
      e.preventDefault();
      e.stopPropagation();
      act(S);
    };
    S.onFocus = (e) => {
      if (!root.isConnected) { document.removeEventListener("focusin", S.onFocus, true); return; }
      const uid = focusedUid(S, e.target);
      if (!uid || (S.line && S.line.uid === uid)) return;
      const [start, end] = S.data.segments[uid];
      setLine(S, { uid, start, end }, true);
    };
    document.addEventListener("keydown", S.onKey, true);
    document.addEventListener("focusin", S.onFocus, true);
  }

  if (S.src !== data.src) {
    const box = root.querySelector(".hke-media");
    box.textContent = "";
    S.media = null;
    if (data.src) {
      const m = document.createElement(data.kind === "video" ? "video" : "audio");
      m.className = "hke-el";
      m.controls = true;
      m.preload = "metadata";
      m.setAttribute("playsinline", "");
      m.setAttribute("aria-label", S.L.player || "Player");
      m.addEventListener("loadedmetadata", () => {
        if (S.pendingSeek != null) { m.currentTime = S.pendingSeek; S.pendingSeek = null; }
        root.dataset.ready = "1";
      });
      m.addEventListener("play", () => { if (S.stopAt != null) watchStop(S); });
      m.addEventListener("error", () => { root.dataset.mediaError = "1"; });
      m.src = data.src;
      box.appendChild(m);
      S.media = m;
    } else {
      const p = document.createElement("p");
      p.className = "hke-nomedia";
      p.textContent = S.L.no_media || "";
      box.appendChild(p);
    }
    S.src = data.src;
    for (const b of Object.values(buttons)) b.disabled = !data.src;
  }

  if (data.line && data.line.n !== S.lineN) {
    S.lineN = data.line.n;
    setLine(S, data.line, true);
    // "Listen" on a segment: a click, so the browser lets it play.
    if (data.line.play) playLine(S);
  }
}
