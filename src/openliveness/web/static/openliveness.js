/**
 * OpenLiveness web SDK: runs one liveness check in the browser against an OpenLiveness server.
 *
 * A dependency-free ES module, no build step. Two ways to use it:
 *   - the web component: <openliveness-check token="…" endpoint="https://…" kind="detectLiveness">
 *     with events `progress`, `result` and `error` (see docs/web-sdk.md);
 *   - the function API: `startLivenessCheck(container, {token, endpoint, …})`, a promise of the outcome.
 *
 * The client protocol it speaks is docs/protocol.md: start an attempt (the challenge), guidance frames while
 * the user positions their face, the colour sequence full-screen with frames captured on the challenge's clock,
 * then one multipart upload.
 */

export const VERSION = "0.1.0";
const DEFAULT_API_VERSION = "v1.2-preview.1";

/** Texts by language. Add a language by assigning `TEXTS.xx = {...}` with the same keys (missing keys fall back to English). */
export const TEXTS = {
  en: {
    title: "Face check",
    intro: "We take a short video of your face while the screen shows a few colours. It takes about five seconds.",
    cameraAsk: "Allow camera access when your browser asks.",
    cameraStarting: "Starting the camera…",
    brightness: "Turn your screen brightness up for the check.",
    placeFace: "Place your face inside the oval.",
    start: "Start check",
    retry: "Try again",
    holdStill: "Hold still and keep looking at the screen.",
    uploading: "Checking…",
    done: "Done. Your check was sent.",
    result_realface: "Check passed.",
    result_spoofface: "The check did not pass.",
    result_uncertain: "We could not decide. Please try again in better light.",
    cameraDenied: "Camera access was blocked. Allow the camera for this site in your browser's settings, then try again.",
    noCamera: "No camera was found. Connect a camera and try again.",
    cameraBusy: "The camera is in use by another application. Close it and try again.",
    insecure: "The camera is only available on a secure (https) page.",
    unsupported: "This browser cannot run the check. Please use a current Chrome, Edge, Firefox or Safari.",
    network: "The connection to the server failed. Please try again.",
    expired: "This check has expired. Please start again.",
    rateLimited: "Too many tries from this device. Please wait a few minutes and try again.",
    failed: "Something went wrong. Please try again.",
    turn_left: "Turn your head to your left, as far as is comfortable, and hold it there.",
    turn_right: "Turn your head to your right, as far as is comfortable, and hold it there.",
    move_closer: "Slowly move closer to the screen.",
    hint_no_face: "We cannot see a face. Look at the camera.",
    hint_multiple_faces: "Only one person should be in view.",
    hint_too_dark: "It is too dark. Find more light.",
    hint_too_bright: "Your face is too bright. Avoid direct light, or light the room around you.",
    hint_move_closer: "Move a little closer.",
    hint_move_back: "Move a little back.",
    hint_center: "Center your face in the oval.",
    hint_hold_still: "Hold still.",
    hint_ok: "Good. You can start.",
  },
  de: {
    title: "Gesichtsprüfung",
    intro: "Wir nehmen ein kurzes Video Ihres Gesichts auf, während der Bildschirm einige Farben zeigt. Das dauert etwa fünf Sekunden.",
    cameraAsk: "Erlauben Sie den Kamerazugriff, wenn Ihr Browser danach fragt.",
    cameraStarting: "Kamera wird gestartet …",
    brightness: "Stellen Sie die Bildschirmhelligkeit für die Prüfung hoch.",
    placeFace: "Bringen Sie Ihr Gesicht in das Oval.",
    start: "Prüfung starten",
    retry: "Erneut versuchen",
    holdStill: "Halten Sie still und schauen Sie weiter auf den Bildschirm.",
    uploading: "Wird geprüft …",
    done: "Fertig. Ihre Prüfung wurde gesendet.",
    result_realface: "Prüfung bestanden.",
    result_spoofface: "Die Prüfung wurde nicht bestanden.",
    result_uncertain: "Wir konnten nicht entscheiden. Bitte versuchen Sie es bei besserem Licht erneut.",
    cameraDenied: "Der Kamerazugriff wurde blockiert. Erlauben Sie die Kamera für diese Seite in den Browser-Einstellungen und versuchen Sie es erneut.",
    noCamera: "Es wurde keine Kamera gefunden. Schließen Sie eine Kamera an und versuchen Sie es erneut.",
    cameraBusy: "Die Kamera wird von einer anderen Anwendung verwendet. Schließen Sie diese und versuchen Sie es erneut.",
    insecure: "Die Kamera ist nur auf einer sicheren (https) Seite verfügbar.",
    unsupported: "Dieser Browser kann die Prüfung nicht ausführen. Bitte verwenden Sie ein aktuelles Chrome, Edge, Firefox oder Safari.",
    network: "Die Verbindung zum Server ist fehlgeschlagen. Bitte versuchen Sie es erneut.",
    expired: "Diese Prüfung ist abgelaufen. Bitte beginnen Sie neu.",
    rateLimited: "Zu viele Versuche von diesem Gerät. Bitte warten Sie einige Minuten und versuchen Sie es erneut.",
    failed: "Etwas ist schiefgelaufen. Bitte versuchen Sie es erneut.",
    turn_left: "Drehen Sie den Kopf so weit es bequem geht nach links und halten Sie ihn dort.",
    turn_right: "Drehen Sie den Kopf so weit es bequem geht nach rechts und halten Sie ihn dort.",
    move_closer: "Kommen Sie langsam näher an den Bildschirm.",
    hint_no_face: "Wir sehen kein Gesicht. Schauen Sie in die Kamera.",
    hint_multiple_faces: "Es sollte nur eine Person zu sehen sein.",
    hint_too_dark: "Es ist zu dunkel. Suchen Sie mehr Licht.",
    hint_too_bright: "Ihr Gesicht ist zu hell. Meiden Sie direktes Licht oder beleuchten Sie den Raum.",
    hint_move_closer: "Kommen Sie etwas näher.",
    hint_move_back: "Gehen Sie etwas zurück.",
    hint_center: "Bringen Sie Ihr Gesicht in die Mitte des Ovals.",
    hint_hold_still: "Halten Sie still.",
    hint_ok: "Gut. Sie können starten.",
  },
};

/** An error the check ended with: `code` is stable (camera_denied, no_camera, camera_busy, insecure_context,
 * unsupported, network, expired, server), `message` is the localised text shown to the user. */
export class LivenessError extends Error {
  constructor(code, message, detail) {
    super(message);
    this.name = "LivenessError";
    this.code = code;
    this.detail = detail;
  }
}

function pickLang(lang) {
  const wanted = (lang || (typeof navigator !== "undefined" && navigator.language) || "en").toLowerCase();
  const base = wanted.split("-")[0];
  return TEXTS[base] ? base : "en";
}

function textsFor(lang) {
  return Object.assign({}, TEXTS.en, TEXTS[pickLang(lang)]);
}

const hexToRgb = (hex) => [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));

/** Where the reduced-flash option puts a colour: half-way to light grey, so each change is a smaller jump in
 * luminance and saturation (see docs/web-sdk.md for its effect on the decision). */
function softened(hex) {
  const [r, g, b] = hexToRgb(hex).map((c) => Math.round(c * 0.5 + 200 * 0.5));
  return `rgb(${r}, ${g}, ${b})`;
}

/** The step on screen at `t` ms of the challenge's clock (null in the lead-in and after the steps). */
export function stepAt(challenge, t) {
  let start = challenge.leadInMs;
  if (t < start) return null;
  for (let i = 0; i < challenge.steps.length; i++) {
    start += challenge.steps[i].durationMs;
    if (t < start) return i;
  }
  return null;
}

function challengeLength(challenge) {
  const steps = challenge.steps.reduce((sum, s) => sum + s.durationMs, 0);
  return challenge.leadInMs + steps + (challenge.motion ? challenge.motion.durationMs : 0);
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function cameraError(err, t) {
  const name = err && err.name;
  if (name === "NotAllowedError" || name === "SecurityError" || name === "PermissionDeniedError") {
    return new LivenessError("camera_denied", t.cameraDenied, err);
  }
  if (name === "NotFoundError" || name === "OverconstrainedError" || name === "DevicesNotFoundError") {
    return new LivenessError("no_camera", t.noCamera, err);
  }
  if (name === "NotReadableError" || name === "TrackStartError" || name === "AbortError") {
    return new LivenessError("camera_busy", t.cameraBusy, err);
  }
  return new LivenessError("camera", t.failed, err);
}

/** The protocol calls, with the session token; errors become LivenessError with the server's code. */
class Api {
  constructor({ endpoint, token, apiVersion, kind }) {
    const base = (endpoint || location.origin).replace(/\/+$/, "");
    this.base = `${base}/face/${apiVersion || DEFAULT_API_VERSION}/${kind || "detectLiveness"}/singleModal`;
    this.auth = { Authorization: `Bearer ${token}` };
  }

  async call(path, init, t) {
    let response;
    try {
      response = await fetch(this.base + path, { ...init, headers: { ...this.auth, ...(init.headers || {}) } });
    } catch (err) {
      throw new LivenessError("network", t.network, err);
    }
    if (response.ok) return response;
    let body = null;
    try {
      body = await response.json();
    } catch (_) {
      /* not JSON */
    }
    const code = (body && body.error && body.error.code) || `http_${response.status}`;
    const message = (body && body.error && body.error.message) || response.statusText;
    const detail = { status: response.status, code, message };
    if (response.status === 429) {
      detail.retryAfterSeconds = Number(response.headers.get("Retry-After")) || null;
      throw new LivenessError("rate_limited", t.rateLimited, detail);
    }
    const expired = response.status === 401;
    throw new LivenessError(expired ? "expired" : "server", expired ? t.expired : t.failed, detail);
  }

  async attempt(t, deviceCorrelationId) {
    const body = deviceCorrelationId ? JSON.stringify({ deviceCorrelationId }) : "{}";
    const r = await this.call("/attempts", { method: "POST", body, headers: { "Content-Type": "application/json" } }, t);
    return r.json();
  }

  async guidance(jpeg, t) {
    const r = await this.call("/guidance", { method: "POST", body: jpeg, headers: { "Content-Type": "image/jpeg" } }, t);
    return r.json();
  }

  async detect(form, t) {
    const r = await this.call("", { method: "POST", body: form }, t);
    return r.status === 204 ? null : r.json();
  }
}

const CSS = `
[hidden]{display:none!important}
.ol-card[data-state=error] .ol-oval,.ol-card[data-state=done] .ol-oval,.ol-card[data-state=done] .ol-btn,.ol-card[data-state=uploading] .ol-btn{display:none}
.ol-card[data-state=done] video,.ol-card[data-state=error] video{display:none}
.ol-card[data-state=done] .ol-stage{background:linear-gradient(160deg,#1d3b8f,#2457f5)}
.ol-card[data-state=done] .ol-placeholder{flex-direction:column;color:#fff;font-size:1.1rem;font-weight:600}
.ol-card[data-state=done] .ol-placeholder::before{content:"✓";display:flex;align-items:center;justify-content:center;width:84px;height:84px;margin-bottom:14px;border-radius:50%;background:rgba(255,255,255,.18);font-size:44px}
:host{display:block;font:16px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1b2330}
.ol-card{max-width:560px;margin:0 auto;background:#fff;border-radius:18px;box-shadow:0 10px 30px rgba(20,30,60,.12);overflow:hidden}
.ol-stage{position:relative;aspect-ratio:4/3;background:#0f1622;overflow:hidden}
.ol-stage video{position:absolute;inset:0;width:100%;height:100%;object-fit:cover;transform:scaleX(-1)}
.ol-oval{position:absolute;left:50%;top:47%;width:44%;height:72%;transform:translate(-50%,-50%);border-radius:50%;border:3px solid rgba(255,255,255,.9);box-shadow:0 0 0 2000px rgba(10,16,28,.55);transition:border-color .3s}
.ol-oval[data-ok="true"]{border-color:#35c98b}
.ol-placeholder{position:absolute;inset:0;display:flex;align-items:center;justify-content:center;color:#c9d3e3;padding:24px;text-align:center}
.ol-body{padding:18px 22px 22px}
.ol-title{margin:0 0 6px;font-size:1.15rem;font-weight:650}
.ol-msg{margin:0 0 6px;min-height:1.45em;font-weight:550}
.ol-msg[data-kind="error"]{color:#b3261e}
.ol-msg[data-kind="ok"]{color:#0f7a4f}
.ol-note{margin:0 0 14px;color:#566175;font-size:.92rem}
.ol-note::before{content:"☀ ";}
.ol-btn{appearance:none;border:0;border-radius:999px;background:#2457f5;color:#fff;font:inherit;font-weight:600;padding:11px 26px;cursor:pointer}
.ol-btn:disabled{background:#9aa9cc;cursor:default}
.ol-btn:focus-visible{outline:3px solid #9bb5ff;outline-offset:2px}
.ol-overlay{position:fixed;inset:0;z-index:2147483647;background:#fff;display:none;align-items:flex-end;justify-content:center}
.ol-overlay[data-on="true"]{display:flex}
.ol-overlay[data-soft="true"]{transition:background-color .15s linear}
.ol-prompt{margin:0 0 8vh;padding:12px 22px;border-radius:12px;background:rgba(255,255,255,.85);color:#111;font-size:1.3rem;font-weight:600;text-align:center}
.ol-spin{display:inline-block;width:1em;height:1em;margin-right:.5em;vertical-align:-.15em;border:2px solid #9aa9cc;border-top-color:#2457f5;border-radius:50%;animation:ol-r 1s linear infinite}
@keyframes ol-r{to{transform:rotate(360deg)}}
@media (prefers-reduced-motion:reduce){.ol-spin{animation:none}}
`;

let sheet = null;
function styleInto(root) {
  // A constructed stylesheet is not an inline <style>, so pages need no 'unsafe-inline' in style-src.
  try {
    if (!sheet) {
      sheet = new CSSStyleSheet();
      sheet.replaceSync(CSS);
    }
    root.adoptedStyleSheets = [sheet];
  } catch (_) {
    const style = document.createElement("style");
    style.textContent = CSS;
    root.appendChild(style);
  }
}

function el(tag, cls, text) {
  const node = document.createElement(tag);
  if (cls) node.className = cls;
  if (text) node.textContent = text;
  return node;
}

/**
 * One check in a container: builds the UI in `root` (an element or shadow root) and runs the protocol.
 * Options: token, endpoint, apiVersion, kind, lang, reducedFlash, deviceCorrelationId, verifyImage (Blob,
 * detectLivenessWithVerify only), onProgress(state, detail), autoStart (skip the start button).
 */
export class LivenessCheck {
  constructor(root, options) {
    this.root = root;
    this.options = options;
    this.t = textsFor(options.lang);
    this.api = new Api(options);
    this.stream = null;
    this.state = "idle";
    this.guidanceTimer = null;
    this._build();
  }

  _build() {
    const t = this.t;
    styleInto(this.root);
    const card = el("div", "ol-card");
    card.setAttribute("part", "card");
    this.stage = el("div", "ol-stage");
    this.video = el("video");
    this.video.muted = true;
    this.video.playsInline = true;
    this.video.setAttribute("playsinline", "");
    this.video.setAttribute("aria-hidden", "true");
    this.oval = el("div", "ol-oval");
    this.placeholder = el("div", "ol-placeholder", t.cameraAsk);
    this.stage.append(this.video, this.oval, this.placeholder);
    const body = el("div", "ol-body");
    this.titleEl = el("h2", "ol-title", t.title);
    this.msg = el("p", "ol-msg", t.intro);
    this.msg.setAttribute("role", "status");
    this.msg.setAttribute("aria-live", "polite");
    this.note = el("p", "ol-note", t.brightness);
    this.button = el("button", "ol-btn", t.start);
    this.button.type = "button";
    this.button.disabled = true;
    this.button.addEventListener("click", () => this._onButton());
    body.append(this.titleEl, this.msg, this.note, this.button);
    card.append(this.stage, body);
    this.overlay = el("div", "ol-overlay");
    this.overlay.setAttribute("role", "presentation");
    if (this.options.reducedFlash) this.overlay.dataset.soft = "true";
    this.prompt = el("p", "ol-prompt");
    this.prompt.setAttribute("aria-live", "assertive");
    this.overlay.append(this.prompt);
    this.root.append(card, this.overlay);
    this.card = card;
  }

  _setState(state, detail = {}) {
    this.state = state;
    this.card.dataset.state = state;
    if (this.root.host) this.root.host.setAttribute("state", state);
    if (this.options.onProgress) this.options.onProgress(state, detail);
  }

  _say(text, kind = "") {
    this.msg.textContent = text;
    this.msg.dataset.kind = kind;
  }

  /** Ask for the camera and show the preview with guidance. Resolves when the user may start. */
  async open() {
    const t = this.t;
    this._setState("camera");
    if (!window.isSecureContext) throw this._fail(new LivenessError("insecure_context", t.insecure));
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      throw this._fail(new LivenessError("unsupported", t.unsupported));
    }
    this.placeholder.textContent = t.cameraAsk;
    try {
      this.stream = await navigator.mediaDevices.getUserMedia({
        audio: false,
        video: { facingMode: "user", width: { ideal: 640 }, height: { ideal: 480 }, frameRate: { ideal: 30 } },
      });
    } catch (err) {
      throw this._fail(cameraError(err, t));
    }
    this.video.srcObject = this.stream;
    try {
      await this.video.play();
    } catch (_) {
      /* autoplay of a muted stream is allowed; a refusal still shows frames once data arrives */
    }
    this.placeholder.hidden = true;
    this._say(t.placeFace);
    this.button.disabled = false;
    this._setState("preview");
    this._guidanceLoop();
    if (this.options.autoStart) return this.run();
    return new Promise((resolve, reject) => {
      this._pending = { resolve, reject };
    });
  }

  _onButton() {
    if (this.state === "preview" && this._pending) {
      const { resolve, reject } = this._pending;
      this._pending = null;
      this.run().then(resolve, reject);
    } else if (this.state === "error" && this.options.onRetry) {
      this.options.onRetry();
    }
  }

  _guidanceLoop() {
    const tick = async () => {
      if (this.state !== "preview") return;
      try {
        const jpeg = await this._grab(320, 0.7);
        if (jpeg && this.state === "preview") {
          const g = await this.api.guidance(jpeg, this.t);
          if (this.state === "preview") {
            this._say(this.t[`hint_${g.hint}`] || g.message, g.hint === "ok" ? "ok" : "");
            this.oval.dataset.ok = String(g.hint === "ok");
            this._lastHint = g.hint;
          }
        }
      } catch (_) {
        /* guidance is advisory: a failed call just skips one hint */
      }
      if (this.state === "preview") this.guidanceTimer = setTimeout(tick, 700);
    };
    this.guidanceTimer = setTimeout(tick, 150);
  }

  _grab(width, quality) {
    const v = this.video;
    if (!v.videoWidth) return Promise.resolve(null);
    const c = document.createElement("canvas");
    c.width = width;
    c.height = Math.round((width * v.videoHeight) / v.videoWidth);
    c.getContext("2d").drawImage(v, 0, 0, c.width, c.height);
    return new Promise((resolve) => c.toBlob(resolve, "image/jpeg", quality));
  }

  _fail(error) {
    this._stopCamera();
    this._setState("error", { code: error.code });
    this._say(error.message, "error");
    this.placeholder.hidden = false;
    this.placeholder.textContent = error.message;
    this.overlay.dataset.on = "false";
    this.button.textContent = this.t.retry;
    this.button.disabled = !this.options.onRetry;
    return error;
  }

  _stopCamera() {
    clearTimeout(this.guidanceTimer);
    if (this.stream) this.stream.getTracks().forEach((track) => track.stop());
    this.stream = null;
  }

  async _lockCamera(track) {
    // Auto exposure and white balance would chase the flashing colours and wash out the reflection the
    // server measures; lock them after the lead-in let them settle on white. Unsupported: nothing happens.
    try {
      const caps = track.getCapabilities ? track.getCapabilities() : {};
      const wanted = {};
      if ((caps.exposureMode || []).includes("manual")) wanted.exposureMode = "manual";
      if ((caps.whiteBalanceMode || []).includes("manual")) wanted.whiteBalanceMode = "manual";
      if (Object.keys(wanted).length) await track.applyConstraints({ advanced: [wanted] });
    } catch (_) {
      /* not every camera allows it */
    }
  }

  /** Start an attempt, run the challenge full-screen, upload; resolves with the outcome. */
  async run() {
    const t = this.t;
    clearTimeout(this.guidanceTimer);
    this.button.disabled = true;
    let started;
    try {
      started = await this.api.attempt(t, this.options.deviceCorrelationId);
    } catch (err) {
      throw this._fail(err);
    }
    const challenge = started.challenge;
    this._setState("challenge", { attemptId: started.attemptId, attemptNumber: started.attemptNumber });
    this._say(t.holdStill);
    let frames;
    try {
      frames = await this._capture(challenge);
    } finally {
      this.overlay.dataset.on = "false";
      if (document.fullscreenElement && document.exitFullscreen) document.exitFullscreen().catch(() => {});
    }
    this._stopCamera();
    this._setState("uploading", { frames: frames.length });
    this._say(t.uploading);
    this.msg.prepend(el("span", "ol-spin"));
    const metadata = {
      attemptId: started.attemptId,
      frames: frames.map((f) => ({ timestampMs: Math.round(f.t * 10) / 10, stepIndex: f.step })),
    };
    if (this.options.deviceCorrelationId) metadata.deviceCorrelationId = this.options.deviceCorrelationId;
    const form = new FormData();
    form.append("metadata", JSON.stringify(metadata));
    const blobs = await Promise.all(frames.map((f) => f.blob));
    blobs.forEach((blob, i) => form.append("frame", blob, `frame${i}.jpg`));
    if (this.options.verifyImage) form.append("VerifyImage", this.options.verifyImage, "reference");
    let result;
    try {
      result = await this.api.detect(form, t);
    } catch (err) {
      throw this._fail(err);
    }
    const decision = result && result.livenessDecision;
    this._setState("done", { result });
    this._say(decision ? t[`result_${decision}`] || decision : t.done, decision === "realface" || !decision ? "ok" : "");
    this.placeholder.hidden = false;
    this.placeholder.textContent = this.msg.textContent;
    return { attemptId: started.attemptId, status: result ? 200 : 204, result };
  }

  _capture(challenge) {
    // jpegQuality: the server refuses frames encoded much more coarsely (docs/protocol.md).
    const { width, height, maxFrames, targetFps, jpegQuality } = challenge.capture;
    const total = challenge.leadInMs + challenge.steps.reduce((s, x) => s + x.durationMs, 0);
    const length = challengeLength(challenge);
    const minGap = (1000 / targetFps) * 0.85;
    const frames = [];
    const overlay = this.overlay;
    const video = this.video;
    const track = this.stream.getVideoTracks()[0];
    const soft = !!this.options.reducedFlash;
    overlay.style.backgroundColor = "#ffffff";
    overlay.dataset.on = "true";
    this.prompt.textContent = "";
    this.prompt.hidden = true;
    if (overlay.requestFullscreen) overlay.requestFullscreen().catch(() => {});
    let t0 = null;
    let locked = false;
    let lastKept = -Infinity;

    const paint = (now) => {
      // The screen follows the clock, not a chain of timers: a late frame never shifts later colours.
      const t = now - t0;
      const step = stepAt(challenge, t);
      const color = step === null ? "#ffffff" : challenge.steps[step].color;
      overlay.style.backgroundColor = soft && step !== null ? softened(color) : color;
      overlay.dataset.step = step === null ? "" : String(step);
      if (!locked && t >= challenge.leadInMs * 0.7) {
        locked = true;
        this._lockCamera(track);
      }
      if (challenge.motion && t >= total && this.prompt.hidden) {
        this.prompt.hidden = false;
        this.prompt.textContent = this.t[challenge.motion.prompt] || challenge.motion.prompt;
      }
    };

    const keep = (when) => {
      const t = when - t0;
      if (t < 0 || t > length || frames.length >= maxFrames || t - lastKept < minGap) return;
      lastKept = t;
      const c = document.createElement("canvas");
      c.width = width;
      c.height = height;
      // The frame as the camera sees it: never mirrored (only the preview is).
      c.getContext("2d").drawImage(video, 0, 0, width, height);
      frames.push({ t, step: stepAt(challenge, t), blob: new Promise((r) => c.toBlob(r, "image/jpeg", jpegQuality)) });
    };

    return new Promise((resolve) => {
      const useVfc = typeof video.requestVideoFrameCallback === "function";
      let finished = false;
      const onPaint = (now) => {
        if (t0 === null) {
          // t = 0 is the first painted frame of the white lead-in.
          t0 = now;
        }
        paint(performance.now());
        if (!useVfc) keep(performance.now());
        if (performance.now() - t0 >= length) {
          finished = true;
          resolve(frames);
          return;
        }
        requestAnimationFrame(onPaint);
      };
      if (useVfc) {
        const onFrame = (now, meta) => {
          if (finished) return;
          // captureTime is when the camera took the frame (same clock as performance.now()); older builds
          // only give the expected display time, a frame's duration later.
          if (t0 !== null) keep(meta.captureTime || meta.expectedDisplayTime || now);
          video.requestVideoFrameCallback(onFrame);
        };
        video.requestVideoFrameCallback(onFrame);
      }
      requestAnimationFrame(onPaint);
    });
  }

  close() {
    this._stopCamera();
    this.overlay.dataset.on = "false";
    this.state = "closed";
  }
}

/** Function API: run a check inside `container`. Resolves with `{attemptId, status, result}` (status 204:
 * ask your app server for the result; 200: `result` is the server's answer), rejects with a LivenessError. */
export async function startLivenessCheck(container, options) {
  const check = new LivenessCheck(container, options);
  return check.open();
}

/** `<openliveness-check token endpoint api-version kind lang reduced-flash auto-start>`: opens the camera as
 * soon as it has a token; events `progress` ({state}), `result` ({attemptId, status, result}), `error`
 * ({code, message}). All bubble and cross the shadow boundary. */
export class OpenLivenessCheckElement extends HTMLElement {
  static get observedAttributes() {
    return ["token"];
  }

  connectedCallback() {
    if (!this.shadowRoot) this.attachShadow({ mode: "open" });
    if (this.getAttribute("token")) this.begin();
  }

  attributeChangedCallback(name, before, after) {
    if (name === "token" && after && after !== before && this.isConnected) this.begin();
  }

  disconnectedCallback() {
    if (this.check) this.check.close();
  }

  /** Verification reference photo (Blob) for detectLivenessWithVerify sessions created without one. */
  set verifyImage(blob) {
    this._verifyImage = blob;
  }

  begin() {
    if (this.check) this.check.close();
    this.shadowRoot.replaceChildren();
    const emit = (type, detail) => this.dispatchEvent(new CustomEvent(type, { detail, bubbles: true, composed: true }));
    this.check = new LivenessCheck(this.shadowRoot, {
      token: this.getAttribute("token"),
      endpoint: this.getAttribute("endpoint") || undefined,
      apiVersion: this.getAttribute("api-version") || undefined,
      kind: this.getAttribute("kind") || undefined,
      lang: this.getAttribute("lang") || document.documentElement.lang || undefined,
      reducedFlash: this.hasAttribute("reduced-flash"),
      autoStart: this.hasAttribute("auto-start"),
      deviceCorrelationId: this.getAttribute("device-correlation-id") || undefined,
      verifyImage: this._verifyImage,
      onProgress: (state, detail) => emit("progress", { state, ...detail }),
      onRetry: () => this.begin(),
    });
    this.check.open().then(
      (outcome) => emit("result", outcome),
      (err) => emit("error", { code: err.code || "error", message: err.message, detail: err.detail }),
    );
  }
}

if (typeof customElements !== "undefined" && !customElements.get("openliveness-check")) {
  customElements.define("openliveness-check", OpenLivenessCheckElement);
}
