(() => {
  "use strict";
  const data = JSON.parse(document.getElementById("frames").textContent);
  const screen = document.getElementById("screen");
  const controls = document.getElementById("controls");
  const play = document.getElementById("play");
  const scrub = document.getElementById("scrub");
  const speed = document.getElementById("speed");
  const loop = document.getElementById("loop");
  const position = document.getElementById("position");
  const count = data.frames.length;
  let current = 0;
  let playing = false;
  let timer = null;

  const bytes = (text) => {
    if (!text) return null;
    const raw = atob(text);
    const out = new Uint8Array(raw.length);
    for (let i = 0; i < raw.length; i += 1) out[i] = raw.charCodeAt(i);
    return out;
  };
  const hex = (rgb, cell) =>
    "#" + ((1 << 24) | (rgb[3 * cell] << 16) | (rgb[3 * cell + 1] << 8) | rgb[3 * cell + 2])
      .toString(16).slice(1);

  function draw(index) {
    const frame = data.frames[index];
    const ink = bytes(frame.colors);
    const ground = bytes(frame.backgrounds);
    const lines = frame.text.split("\n");
    const out = document.createDocumentFragment();
    lines.forEach((line, row) => {
      const chars = Array.from(line);
      if (!ink && !ground) {
        out.append(line);
      } else {
        const key = (col) => {
          const cell = row * data.width + col;
          return (ink ? hex(ink, cell) : "") + (ground ? hex(ground, cell) : "");
        };
        let start = 0;
        for (let col = 1; col <= chars.length; col += 1) {
          if (col === chars.length || key(col) !== key(start)) {
            const span = document.createElement("span");
            const cell = row * data.width + start;
            if (ink) span.style.color = hex(ink, cell);
            if (ground) span.style.backgroundColor = hex(ground, cell);
            span.textContent = chars.slice(start, col).join("");
            out.append(span);
            start = col;
          }
        }
      }
      if (row < lines.length - 1) out.append("\n");
    });
    screen.replaceChildren(out);
    screen.dataset.frame = String(index);
    scrub.value = String(index);
    position.textContent = `${index + 1} / ${count}`;
  }

  function schedule() {
    clearTimeout(timer);
    timer = null;
    if (!playing) return;
    timer = setTimeout(step, data.frames[current].duration_ms / Number(speed.value));
  }

  function step() {
    let next = current + 1;
    if (next >= count) {
      if (!loop.checked) {
        setPlaying(false);
        return;
      }
      next = 0;
    }
    current = next;
    draw(current);
    schedule();
  }

  function setPlaying(on) {
    playing = on;
    play.textContent = on ? "Pause" : "Play";
    play.setAttribute("aria-pressed", String(on));
    document.body.dataset.playing = String(on);
    schedule();
  }

  play.addEventListener("click", () => {
    if (!playing && current === count - 1 && !loop.checked) {
      current = 0;
      draw(current);
    }
    setPlaying(!playing);
  });
  scrub.addEventListener("input", () => {
    current = Number(scrub.value);
    draw(current);
    schedule();
  });
  speed.addEventListener("change", schedule);
  document.addEventListener("keydown", (event) => {
    if (event.key === " " && event.target === document.body) {
      event.preventDefault();
      play.click();
    }
  });

  if (count > 1) {
    scrub.max = String(count - 1);
    controls.hidden = false;
    draw(0);
    setPlaying(true);
  }
})();
