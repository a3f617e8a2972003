// Draws an artwork in the <pre id="art"> block: its per-cell colours (ink and background)
// when it has them, and plays its frames when there are several.
(function () {
  "use strict";
  var art = document.getElementById("art");
  var framesNode = document.getElementById("frames");
  var colorsNode = document.getElementById("colors");
  var data = framesNode ? JSON.parse(framesNode.textContent) : { frames: [[art.textContent, 100]] };
  var palette = colorsNode ? JSON.parse(colorsNode.textContent) : null;
  var button = document.getElementById("play");
  var position = document.getElementById("position");
  var frames = data.frames;
  var index = 0;
  var timer = null;

  function bytes(encoded) {
    if (!encoded) { return null; }
    var raw = atob(encoded);
    var out = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) { out[i] = raw.charCodeAt(i); }
    return out;
  }
  function rgb(buffer, cell) {
    var k = cell * 3;
    return "rgb(" + buffer[k] + "," + buffer[k + 1] + "," + buffer[k + 2] + ")";
  }
  // One span per run of cells with the same ink and background, styled through the
  // CSSOM (allowed by the page's style-src 'self' policy).
  function paint(text, ink, ground) {
    var width = palette.width;
    var lines = text.split("\n");
    var fragment = document.createDocumentFragment();
    for (var row = 0; row < lines.length; row++) {
      var line = lines[row];
      var start = 0;
      for (var col = 1; col <= line.length; col++) {
        var a = row * width + start, b = row * width + col;
        var same = col < line.length && rgb(ink, a) === rgb(ink, b) &&
          (!ground || rgb(ground, a) === rgb(ground, b));
        if (same) { continue; }
        var span = document.createElement("span");
        span.textContent = line.slice(start, col);
        span.style.color = rgb(ink, a);
        if (ground) { span.style.backgroundColor = rgb(ground, a); }
        fragment.appendChild(span);
        start = col;
      }
      if (row < lines.length - 1) { fragment.appendChild(document.createTextNode("\n")); }
    }
    if (ground) { art.style.lineHeight = "1"; }
    art.textContent = "";
    art.appendChild(fragment);
  }
  function draw(i) {
    var text = frames[i][0];
    var ink = palette ? bytes(palette.colors[i]) : null;
    if (ink && ink.length === text.split("\n").length * palette.width * 3) {
      paint(text, ink, bytes(palette.backgrounds[i]));
    } else {
      art.textContent = text;
    }
  }
  draw(0);
  if (frames.length < 2 || !button) { return; }

  function show(i) {
    index = i % frames.length;
    draw(index);
    position.textContent = (index + 1) + " / " + frames.length;
  }
  function tick() {
    show(index + 1);
    timer = setTimeout(tick, frames[index][1]);
  }
  function play() {
    if (timer === null) { timer = setTimeout(tick, frames[index][1]); }
    button.textContent = "Pause";
    button.setAttribute("aria-pressed", "true");
  }
  function pause() {
    clearTimeout(timer);
    timer = null;
    button.textContent = "Play";
    button.setAttribute("aria-pressed", "false");
  }
  button.addEventListener("click", function () { if (timer === null) { play(); } else { pause(); } });
  if (window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches) { pause(); } else { play(); }
})();
