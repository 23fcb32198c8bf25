// The first paint's latch: once Streamlit has finished its first run and drawn the page, the
// server-rendered copy (#hk-first-paint) is removed for good, so a later rerun (a click, a search
// typed in) never brings it back. Without this script the style sheet's :has() rule alone hides it.
(function () {
  "use strict";
  var root = document.documentElement;
  function ready() {
    return document.querySelector(
      '[data-test-script-state="notRunning"] [data-testid="stMainBlockContainer"] [data-testid="stElementContainer"]'
    );
  }
  function check() {
    if (ready()) {
      root.classList.add("hk-app-ready");
      observer.disconnect();
      // Gone from the document, not just hidden: the page holds each text once.
      var painted = document.getElementById("hk-first-paint");
      if (painted) painted.remove();
    }
  }
  var observer = new MutationObserver(check);
  observer.observe(root, { childList: true, subtree: true, attributes: true, attributeFilter: ["data-test-script-state"] });
  check();
})();
