// The staff upload widget: a file picker that streams the chosen file to /files/upload with
// XMLHttpRequest (for its upload progress events), then hands the server's answer to Python.
//
// A Streamlit components-v2 component. The body is the raw file (no multipart form), the display
// name goes in X-File-Name and the page's anti-forgery token in X-Upload-Token; the session cookie
// (HttpOnly) goes along by itself. Python gets {upload_id, name, size, mime} through the
// "uploaded" trigger, or {status, error} through "failed".
//
// data: {token, max_bytes, labels: {choose, send, sending, done, cancel, too_large}}

function human(n) {
  if (n >= 1024 ** 3) return (n / 1024 ** 3).toFixed(1) + " GB";
  if (n >= 1024 ** 2) return (n / 1024 ** 2).toFixed(0) + " MB";
  return n + " B";
}

export default function (component) {
  const { data, parentElement, setTriggerValue } = component;
  const root = parentElement.querySelector(".hku");
  if (!root) return;
  root.__data = data;
  const L = () => (root.__data && root.__data.labels) || {};
  const input = root.querySelector("input[type=file]");
  const pick = root.querySelector(".hku-pick");
  const send = root.querySelector(".hku-send");
  const stop = root.querySelector(".hku-stop");
  const bar = root.querySelector("progress");
  const status = root.querySelector(".hku-status");
  const name = root.querySelector(".hku-name");
  // Labels on every run (the language may have changed); the handlers only once.
  pick.textContent = L().choose;
  send.textContent = L().send;
  stop.textContent = L().cancel;
  input.setAttribute("aria-label", L().choose || "");
  if (root.__ready) return;
  root.__ready = true;
  let xhr = null;

  function busy(on) {
    send.disabled = on || !input.files.length;
    pick.disabled = on;
    stop.hidden = !on;
    bar.hidden = !on && bar.value === 0;
  }
  pick.addEventListener("click", () => input.click());
  input.addEventListener("change", () => {
    const file = input.files[0];
    name.textContent = file ? file.name + " · " + human(file.size) : "";
    status.textContent = "";
    bar.value = 0;
    bar.hidden = true;
    busy(false);
  });
  stop.addEventListener("click", () => { if (xhr) xhr.abort(); });
  send.addEventListener("click", () => {
    const file = input.files[0];
    const d = root.__data || {};
    if (!file) return;
    if (d.max_bytes && file.size > d.max_bytes) {
      status.textContent = L().too_large;
      setTriggerValue("failed", { status: 413, error: "too-large" });
      return;
    }
    xhr = new XMLHttpRequest();
    xhr.open("POST", "/files/upload");
    xhr.setRequestHeader("Content-Type", "application/octet-stream");
    xhr.setRequestHeader("X-File-Name", encodeURIComponent(file.name));
    xhr.setRequestHeader("X-Upload-Token", d.token || "");
    xhr.upload.onprogress = (e) => {
      if (!e.lengthComputable) return;
      bar.max = e.total;
      bar.value = e.loaded;
      status.textContent = (L().sending || "").replace("{pct}", String(Math.floor((100 * e.loaded) / e.total)));
    };
    xhr.onload = () => {
      const code = xhr.status;
      let body = {};
      try { body = JSON.parse(xhr.responseText); } catch (err) { body = {}; }
      xhr = null;
      busy(false);
      if (code === 200 && body.upload_id) {
        status.textContent = L().done;
        input.value = "";
        send.disabled = true;
        setTriggerValue("uploaded", body);
      } else {
        status.textContent = "";
        setTriggerValue("failed", { status: code, error: body.error || "bad-request" });
      }
    };
    xhr.onerror = () => { xhr = null; busy(false); status.textContent = ""; setTriggerValue("failed", { status: 0, error: "network" }); };
    xhr.onabort = () => { xhr = null; busy(false); status.textContent = ""; bar.value = 0; setTriggerValue("failed", { status: 0, error: "aborted" }); };
    bar.hidden = false;
    busy(true);
    xhr.send(file);
  });
  busy(false);
}
