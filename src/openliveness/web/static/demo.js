// The demo page: plays the app server (create session, read result) around the SDK's component.
import "/sdk/openliveness.js";

const $ = (id) => document.getElementById(id);
const form = $("setup");
const slot = $("check-slot");
let session = null;

form.addEventListener("change", () => {
  const verify = form.kind.value === "detectLivenessWithVerify";
  $("photo-row").hidden = !verify;
  const file = $("photo").files[0];
  const preview = $("photo-preview");
  preview.hidden = !(verify && file);
  if (verify && file) preview.src = URL.createObjectURL(file);
});

function showError(text) {
  const p = $("setup-error");
  p.textContent = text || "";
  p.hidden = !text;
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  showError("");
  $("result").hidden = true;
  const body = new FormData();
  body.append("kind", form.kind.value);
  body.append("mode", form.mode.value);
  if (form.kind.value === "detectLivenessWithVerify") {
    const file = $("photo").files[0];
    if (!file) return showError("Choose a reference photo first.");
    body.append("photo", file);
  }
  $("go").disabled = true;
  try {
    const r = await fetch("/demo/api/sessions", { method: "POST", body });
    const created = await r.json();
    if (!r.ok) throw new Error((created.error && created.error.message) || r.statusText);
    session = created;
    mount(created);
  } catch (err) {
    showError(`Could not create the session: ${err.message}`);
  } finally {
    $("go").disabled = false;
  }
});

function mount(created) {
  const check = document.createElement("openliveness-check");
  check.setAttribute("kind", created.kind);
  check.setAttribute("endpoint", location.origin);
  check.setAttribute("lang", form.lang.value);
  if (form.reduced.checked) check.setAttribute("reduced-flash", "");
  check.addEventListener("result", () => showResult());
  check.addEventListener("error", (e) => console.info("check ended:", e.detail.code));
  check.setAttribute("token", created.authToken);
  slot.replaceChildren(check);
}

const pct = (x) => `${Math.round(x * 100)}%`;

async function showResult() {
  const panel = $("result");
  panel.hidden = false;
  const decision = $("decision");
  decision.dataset.d = "pending";
  decision.textContent = "Reading the result…";
  const r = await fetch(`/demo/api/sessions/${session.kind}/${session.sessionId}`);
  const body = await r.json();
  const names = { realface: "Real face", spoofface: "Spoof detected", uncertain: "Uncertain" };
  decision.dataset.d = body.decision || "pending";
  decision.textContent = names[body.decision] || body.status;
  const list = $("signals");
  list.replaceChildren();
  for (const [name, score] of Object.entries(body.signals || {})) {
    const li = document.createElement("li");
    const label = document.createElement("span");
    label.textContent = name.replaceAll("_", " ");
    const bar = document.createElement("div");
    bar.className = "bar";
    const fill = document.createElement("span");
    fill.style.width = pct(score);
    if (score < 0.5) fill.className = "low";
    bar.append(fill);
    const value = document.createElement("span");
    value.textContent = score.toFixed(2);
    li.append(label, bar, value);
    list.append(li);
  }
  $("reasons").textContent = (body.reasons || []).length ? `Reasons: ${body.reasons.join(", ")}` : "";
  const match = $("match");
  match.replaceChildren();
  match.hidden = !body.verifyResult;
  if (body.verifyResult) {
    const rows = [
      ["Same person", body.verifyResult.isIdentical ? "yes" : "no"],
      ["Match confidence", body.verifyResult.matchConfidence.toFixed(3)],
    ];
    for (const [k, v] of rows) {
      const dt = document.createElement("dt");
      dt.textContent = k;
      const dd = document.createElement("dd");
      dd.textContent = v;
      match.append(dt, dd);
    }
  }
  $("meta").textContent = body.latencyInMilliseconds ? `Server time ${body.latencyInMilliseconds} ms · session ${session.sessionId}` : "";
}
