// The artwork player: draws each frame in <pre id="art"> with per-cell colour
// (`colors`) and background (`backgrounds`, when the document has them), scales the
// art to fit its box, and offers play/pause, frame step, scrub, speed, loop and
// fullscreen, with keys Space, ←/→, Home/End and F. The first frame is in the page
// already, so nothing is lost without JavaScript.
(function () {
  "use strict";
  var island = document.getElementById("frames");
  var art = document.getElementById("art");
  var stage = document.getElementById("stage");
  if (!island || !art || !stage) { return; }
  var data = JSON.parse(island.textContent);
  var frames = data.frames;
  var cols = data.width;
  var rows = data.height;
  var byId = function (id) { return document.getElementById(id); };
  var button = byId("play"), prev = byId("prev"), next = byId("next"), scrub = byId("scrub");
  var position = byId("position"), speed = byId("speed"), loop = byId("loop"), full = byId("fullscreen");
  var index = 0;
  var timer = null;
  var rate = 1;
  var cache = [];

  function decode(b64) {
    if (!b64) { return null; }
    var raw = atob(b64);
    var out = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) { out[i] = raw.charCodeAt(i); }
    return out;
  }

  function rgb(bytes, cell) {
    var o = cell * 3;
    if (o + 2 >= bytes.length) { return ""; }
    return "rgb(" + bytes[o] + "," + bytes[o + 1] + "," + bytes[o + 2] + ")";
  }

  // One frame as a <span> of coloured runs: cells of the same colour share a span.
  function build(frame) {
    var fg = decode(frame.colors), bg = decode(frame.backgrounds);
    var holder = document.createElement("span");
    var lines = frame.text.split("\n");
    for (var r = 0; r < lines.length; r++) {
      var line = Array.from(lines[r]);
      var runText = "", runKey = null, runFg = "", runBg = "";
      var flush = function () {
        if (!runText) { return; }
        if (!runFg && !runBg) {
          holder.appendChild(document.createTextNode(runText));
        } else {
          var span = document.createElement("span");
          if (runFg) { span.style.color = runFg; }
          if (runBg) { span.style.backgroundColor = runBg; }
          span.textContent = runText;
          holder.appendChild(span);
        }
        runText = "";
      };
      for (var c = 0; c < line.length; c++) {
        var cell = r * cols + c;
        var f = fg ? rgb(fg, cell) : "", b = bg ? rgb(bg, cell) : "";
        var key = f + "|" + b;
        if (key !== runKey) { flush(); runKey = key; runFg = f; runBg = b; }
        runText += line[c];
      }
      flush();
      runKey = null;
      if (r < lines.length - 1) { holder.appendChild(document.createTextNode("\n")); }
    }
    return holder;
  }

  var hasColour = frames.some(function (f) { return f.colors || f.backgrounds; });
  if (hasColour) { art.classList.add("coloured"); }

  function show(i) {
    index = (i + frames.length) % frames.length;
    var frame = frames[index];
    if (hasColour) {
      if (!cache[index]) { cache[index] = build(frame); }
      art.replaceChildren(cache[index]);
    } else {
      art.textContent = frame.text;
    }
    if (hasColour && frames.length > 1) { prefetch((index + 1) % frames.length); }
    if (position) { position.textContent = (index + 1) + " / " + frames.length; }
    if (scrub) { scrub.value = String(index); }
  }

  // Build the next frame's coloured runs while this one shows, not when it is due.
  var ahead = null;
  function prefetch(i) {
    if (cache[i] || ahead !== null) { return; }
    ahead = setTimeout(function () { ahead = null; if (!cache[i]) { cache[i] = build(frames[i]); } }, 0);
  }

  function duration(i) { return Math.max(16, (frames[i].duration_ms || 100) / rate); }

  function tick() {
    timer = null;
    if (index === frames.length - 1 && loop && !loop.checked) { pause(); return; }
    show(index + 1);
    timer = setTimeout(tick, duration(index));
  }
  function play() {
    if (frames.length < 2) { return; }
    if (index === frames.length - 1 && loop && !loop.checked) { show(0); }
    if (timer === null) { timer = setTimeout(tick, duration(index)); }
    button.textContent = "Pause";
    button.setAttribute("aria-pressed", "true");
  }
  function pause() {
    if (timer !== null) { clearTimeout(timer); }
    timer = null;
    if (button) {
      button.textContent = "Play";
      button.setAttribute("aria-pressed", "false");
    }
  }
  function toggle() { if (timer === null) { play(); } else { pause(); } }
  function step(delta) { pause(); show(index + delta); }

  // Scale the font so that the widest row fits the box (and, in fullscreen, the height).
  var probe = document.createElement("span");
  probe.className = "art-probe";
  probe.textContent = "MMMMMMMMMM";
  function fit() {
    var box = byId("art-frame") || stage;
    art.style.fontSize = "";
    var style = getComputedStyle(art);
    probe.style.fontFamily = style.fontFamily;
    probe.style.fontSize = "100px";
    document.body.appendChild(probe);
    var charWidth = probe.getBoundingClientRect().width / 10 / 100;
    document.body.removeChild(probe);
    var pad = parseFloat(style.paddingLeft) + parseFloat(style.paddingRight);
    var avail = box.clientWidth - pad - 2;
    var lineHeight = parseFloat(style.lineHeight) / (parseFloat(style.fontSize) || 14) || 1.15;
    var controls = byId("controls");
    var tall = window.innerHeight - (controls ? controls.offsetHeight : 0) - 40;
    var maxSize = document.fullscreenElement ? 64 : 22;
    if (!document.fullscreenElement) { tall = Math.max(240, window.innerHeight * 0.72); }
    var size = Math.min(maxSize, avail / (cols * charWidth), tall / (rows * lineHeight));
    if (stage.classList.contains("compact")) { size = Math.min(size, (window.innerHeight - 60) / (rows * lineHeight)); }
    art.style.fontSize = Math.max(2, Math.floor(size * 100) / 100) + "px";
  }

  // A person's own action (not a follow): watch-together hosts send it to the room.
  function announce() {
    stage.dispatchEvent(new CustomEvent("player", { detail: { playing: timer !== null, position_ms: offsetOf(index), rate: rate } }));
  }
  function offsetOf(i) {
    var total = 0;
    for (var k = 0; k < i; k++) { total += frames[k].duration_ms || 100; }
    return total;
  }
  // Follow a host: show the frame the shared clock is at, and play on from there.
  function follow(state, now) {
    var total = offsetOf(frames.length);
    var position = state.position_ms + (state.playing ? (now - state.at) * state.rate : 0);
    position = total > 0 ? ((position % total) + total) % total : 0;
    var i = 0;
    while (i < frames.length - 1 && offsetOf(i + 1) <= position) { i++; }
    rate = state.rate || 1;
    if (speed) { speed.value = String(rate); }
    if (timer !== null) { clearTimeout(timer); timer = null; }
    show(i);
    if (state.playing && frames.length > 1) {
      var left = (offsetOf(i + 1) - position) / rate;
      timer = setTimeout(tick, Math.max(16, left));
      button.textContent = "Pause";
      button.setAttribute("aria-pressed", "true");
    } else {
      pause();
    }
  }
  if (button) { button.addEventListener("click", toggle); }
  if (prev) { prev.addEventListener("click", function () { step(-1); }); }
  if (next) { next.addEventListener("click", function () { step(1); }); }
  [button, prev, next].forEach(function (el) { if (el) { el.addEventListener("click", announce); } });
  if (scrub) {
    scrub.addEventListener("input", function () { pause(); show(parseInt(scrub.value, 10) || 0); announce(); });
  }
  if (speed) { speed.addEventListener("change", function () { rate = parseFloat(speed.value) || 1; announce(); }); }
  if (full) {
    if (!stage.requestFullscreen) { full.hidden = true; }
    full.addEventListener("click", function () {
      if (document.fullscreenElement) { document.exitFullscreen(); } else { stage.requestFullscreen(); }
    });
  }
  document.addEventListener("fullscreenchange", function () {
    if (full) { full.textContent = document.fullscreenElement ? "Exit fullscreen" : "Fullscreen"; }
    fit();
  });
  document.addEventListener("keydown", function (event) {
    var t = event.target;
    if (event.ctrlKey || event.metaKey || event.altKey) { return; }
    if (t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT|BUTTON)$/.test(t.tagName)) && event.key !== "Escape") {
      if (!(t === scrub && (event.key === " "))) { return; }
    }
    if (document.querySelector("dialog[open]")) { return; }
    if (event.key === " " && button) { event.preventDefault(); toggle(); announce(); }
    else if (event.key === "ArrowLeft" && frames.length > 1) { event.preventDefault(); step(-1); announce(); }
    else if (event.key === "ArrowRight" && frames.length > 1) { event.preventDefault(); step(1); announce(); }
    else if (event.key === "Home" && frames.length > 1) { step(-index); announce(); }
    else if (event.key === "End" && frames.length > 1) { step(frames.length - 1 - index); announce(); }
    else if ((event.key === "f" || event.key === "F") && full && !full.hidden) { full.click(); }
  });
  var resizeTimer = null;
  window.addEventListener("resize", function () {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(fit, 100);
  });

  if (byId("controls")) { byId("controls").hidden = false; }  // the embed page has no site.js
  stage.classList.add("ready");
  show(0);
  fit();
  var still = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;
  if (frames.length > 1 && !still) { play(); }
  window.asciihubPlayer = {
    show: show, play: play, pause: pause, follow: follow,
    frame: function () { return index; },
    playing: function () { return timer !== null; }
  };
})();
