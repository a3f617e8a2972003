// Plays an artwork's frames in the <pre id="art"> block; the first frame is already there.
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("frames").textContent);
  var art = document.getElementById("art");
  var button = document.getElementById("play");
  var position = document.getElementById("position");
  var frames = data.frames;
  var index = 0;
  var timer = null;

  function show(i) {
    index = i % frames.length;
    art.textContent = frames[index][0];
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
