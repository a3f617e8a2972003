// The collaborative editor on /ws/artworks/{id} (docs/realtime.md): the room orders
// every op; this page applies the effects it broadcasts, shows its own strokes at once
// (pending until their effect comes back) and resends unacknowledged ops after a
// reconnect. Undo and redo are the room's, per user.
(function () {
  "use strict";
  var root = document.getElementById("editor");
  var canvas = document.getElementById("ed-canvas");
  if (!root || !canvas || !("WebSocket" in window)) { return; }
  var keyBetween = window.asciihubKeys.keyBetween;
  var byId = function (id) { return document.getElementById(id); };
  var ctx = canvas.getContext("2d");
  var artworkId = root.dataset.id;
  var share = root.dataset.share;
  var myUser = root.dataset.user;
  var owner = root.dataset.owner, ownerHandle = root.dataset.ownerHandle;
  var clientId = "e" + Math.random().toString(36).slice(2, 12);

  // --- the document ------------------------------------------------------------
  var doc = { width: 1, height: 1, frames: {} };
  var epoch = null, lastSeq = 0, opId = 0;
  var pending = new Map();   // "fid|r|c" -> {value, op}
  var draft = new Map();     // cells of the stroke being drawn, not sent yet
  var outbox = [];           // [{op_id, op}] sent or to send, not yet acknowledged
  var current = null, cursor = { r: 0, c: 0 }, selection = null, clipboard = null;
  var others = {};           // member_id -> cursor message
  var socket = null, connected = false, playing = null, selectNext = null;

  function decode(b64) {
    if (!b64) { return null; }
    var raw = atob(b64), out = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) { out[i] = raw.charCodeAt(i); }
    return out;
  }
  function hex(bytes, index) {
    if (!bytes || index * 3 + 2 >= bytes.length) { return null; }
    var o = index * 3;
    return "#" + [bytes[o], bytes[o + 1], bytes[o + 2]].map(function (v) {
      return (v < 16 ? "0" : "") + v.toString(16);
    }).join("");
  }
  function blankFrame(id) {
    return { id: id, key: "a0", duration: 100, deleted: false, rows: [], cols: doc.width, fg: null, bg: null, cells: new Map() };
  }
  function loadSnapshot(snap) {
    doc = { width: snap.width[0], height: snap.height[0], frames: {} };
    snap.frames.forEach(function (f) {
      var frame = {
        id: f.id, key: f.key[0], duration: f.duration_ms[0], deleted: f.deleted[0],
        rows: f.base.rows, cols: f.base.cols, fg: decode(f.base.fg), bg: decode(f.base.bg), cells: new Map()
      };
      f.cells.forEach(function (c) { frame.cells.set(c[0] + "," + c[1], [c[2], c[3], c[4]]); });
      doc.frames[f.id] = frame;
    });
    lastSeq = snap.seq;
  }
  function order() {
    return Object.keys(doc.frames).map(function (k) { return doc.frames[k]; })
      .filter(function (f) { return !f.deleted; })
      .sort(function (a, b) { return a.key < b.key ? -1 : a.key > b.key ? 1 : (a.id < b.id ? -1 : 1); });
  }
  function confirmed(frame, r, c) {
    var cell = frame.cells.get(r + "," + c);
    if (cell) { return cell; }
    var row = frame.rows[r] || "";
    var chars = Array.from(row);
    var index = r * frame.cols + c;
    return [chars[c] || " ", c < frame.cols ? hex(frame.fg, index) : null, c < frame.cols ? hex(frame.bg, index) : null];
  }
  function shown(frame, r, c) {
    var key = frame.id + "|" + r + "|" + c;
    if (draft.has(key)) { return draft.get(key); }
    if (pending.has(key)) { return pending.get(key).value; }
    return confirmed(frame, r, c);
  }
  function applyEffect(effect) {
    lastSeq = Math.max(lastSeq, effect.seq || 0);
    (effect.frames || []).forEach(function (f) {
      var frame = doc.frames[f.id] || (doc.frames[f.id] = blankFrame(f.id));
      if (f.key !== undefined) { frame.key = f.key; }
      if (f.duration_ms !== undefined) { frame.duration = f.duration_ms; }
      if (f.deleted !== undefined) { frame.deleted = f.deleted; }
    });
    (effect.cells || []).forEach(function (c) {
      var frame = doc.frames[c[0]] || (doc.frames[c[0]] = blankFrame(c[0]));
      frame.cells.set(c[1] + "," + c[2], [c[3], c[4], c[5]]);
    });
    if (effect.props) {
      if (effect.props.width) { doc.width = effect.props.width; }
      if (effect.props.height) { doc.height = effect.props.height; }
      if (effect.props.width || effect.props.height) { layout(); }
    }
    if (effect.client_id === clientId) { acknowledge(effect.op_id); }
    if (selectNext && doc.frames[selectNext] && !doc.frames[selectNext].deleted) {
      current = selectNext;
      selectNext = null;
    }
  }
  function acknowledge(id) {
    outbox = outbox.filter(function (item) { return item.op_id !== id; });
    pending.forEach(function (entry, key) { if (entry.op === id) { pending.delete(key); } });
    status();
  }

  // --- talking to the room ---------------------------------------------------------
  function send(op) {
    opId += 1;
    var item = { op_id: opId, op: op };
    outbox.push(item);
    if (connected) { socket.send(JSON.stringify({ type: "op", op_id: item.op_id, op: op })); }
    status();
    return opId;
  }
  function sendStroke(cells) {
    if (!current || !cells.length) { return; }
    var list = [];
    cells.forEach(function (cell) { list.push([cell[0], cell[1], cell[2], cell[3], cell[4]]); });
    var id = send({ kind: "stroke", frame: current, cells: list });
    list.forEach(function (cell) {
      pending.set(current + "|" + cell[0] + "|" + cell[1], { value: [cell[2], cell[3], cell[4]], op: id });
    });
    draw();
  }
  function connect() {
    var scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
    socket = new WebSocket(scheme + "//" + window.location.host + "/ws/artworks/" +
      encodeURIComponent(artworkId) + (share ? "?share=" + encodeURIComponent(share) : ""));
    socket.addEventListener("open", function () {
      var hello = { type: "hello", v: 1, client_id: clientId };
      if (epoch) { hello.epoch = epoch; hello.last_seq = lastSeq; }
      socket.send(JSON.stringify(hello));
    });
    socket.addEventListener("message", function (event) {
      var m;
      try { m = JSON.parse(event.data); } catch (e) { return; }
      if (m.type === "welcome") { welcome(m); }
      else if (m.type === "effect") { applyEffect(m); timeline(); draw(); }
      else if (m.type === "viewers") { byId("ed-people").textContent = m.count + " here · " + m.editors + " editing"; }
      else if (m.type === "cursor") { others[m.member_id] = m; draw(); }
      else if (m.type === "chat") { say(m); }
      else if (m.type === "error" && m.op_id !== undefined) { acknowledge(m.op_id); draw(); }
    });
    socket.addEventListener("close", function (event) {
      connected = false;
      status();
      if (event.code === 4403) { window.location.assign("/a/" + artworkId + (share ? "?share=" + share : "")); return; }
      if (event.code === 4404 || event.code === 1008) { byId("ed-status").textContent = "This artwork is not open to you."; return; }
      if (event.code === 4409) { epoch = null; }
      setTimeout(connect, 600);
    });
  }
  function welcome(m) {
    if (m.role !== "editor") { window.location.assign("/a/" + artworkId + (share ? "?share=" + share : "")); return; }
    if (m.resync === "snapshot" || m.epoch !== epoch) {
      if (epoch && m.epoch !== epoch) { pending.clear(); outbox = []; }
      loadSnapshot(m.snapshot);
    }
    epoch = m.epoch;
    connected = true;
    byId("chat-log").replaceChildren();
    chatSeen = {};
    (m.chat || []).forEach(say);
    var live = order();
    if (!current || !doc.frames[current] || doc.frames[current].deleted) { current = live.length ? live[0].id : null; }
    outbox.forEach(function (item) { socket.send(JSON.stringify({ type: "op", op_id: item.op_id, op: item.op })); });
    layout();
    timeline();
    draw();
    status();
  }
  function status() {
    var label = byId("ed-status");
    if (!connected) { label.textContent = "Offline, reconnecting…"; }
    else if (outbox.length || draft.size) { label.textContent = "Saving…"; }
    else { label.textContent = "Saved"; }
    label.dataset.state = !connected ? "offline" : (outbox.length ? "saving" : "saved");
  }
  var lastCursor = 0;
  function shareCursor() {
    var now = Date.now();
    if (!connected || now - lastCursor < 60 || !current) { return; }
    lastCursor = now;
    var sel = selection ? [[selection.r0, selection.c0], [selection.r1, selection.c1]] : null;
    socket.send(JSON.stringify({ type: "cursor", frame: current, row: cursor.r, col: cursor.c, selection: sel }));
  }

  // --- drawing -------------------------------------------------------------------
  var cw = 9, lh = 18, fontSize = 15, font = "";
  function layout() {
    var style = getComputedStyle(canvas);
    var wrap = canvas.parentNode;
    var avail = Math.max(120, wrap.clientWidth - 20);
    ctx.font = "100px " + style.fontFamily;
    var ratio100 = ctx.measureText("M").width / 100;
    fontSize = Math.max(6, Math.min(26, Math.floor(avail / (doc.width * ratio100))));
    font = fontSize + "px " + style.fontFamily;
    ctx.font = font;
    cw = ctx.measureText("M").width;
    lh = Math.round(fontSize * 1.2);
    var dpr = window.devicePixelRatio || 1;
    canvas.width = Math.ceil(doc.width * cw * dpr);
    canvas.height = Math.ceil(doc.height * lh * dpr);
    canvas.style.width = Math.ceil(doc.width * cw) + "px";
    canvas.style.height = Math.ceil(doc.height * lh) + "px";
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  }
  function colour(name) { return getComputedStyle(root).getPropertyValue(name).trim(); }
  var queued = false;
  function draw() {
    if (queued) { return; }
    queued = true;
    window.requestAnimationFrame(paint);
  }
  function hue(text) {
    var h = 0;
    for (var i = 0; i < text.length; i++) { h = (h * 31 + text.charCodeAt(i)) % 360; }
    return "hsl(" + h + ", 85%, 60%)";
  }
  function paint() {
    queued = false;
    var ink = colour("--art-ink") || "#e6e6de", paper = colour("--art-bg") || "#101013";
    ctx.font = font;
    ctx.textBaseline = "top";
    ctx.fillStyle = paper;
    ctx.fillRect(0, 0, doc.width * cw, doc.height * lh);
    var frameId = playing || current;
    var frame = frameId ? doc.frames[frameId] : null;
    if (!frame) { return; }
    var live = order();
    var index = live.findIndex(function (f) { return f.id === frame.id; });
    var onion = byId("ed-onion").checked && !playing && index > 0 ? live[index - 1] : null;
    for (var r = 0; r < doc.height; r++) {
      for (var c = 0; c < doc.width; c++) {
        var cell = shown(frame, r, c);
        if (cell[2]) { ctx.fillStyle = cell[2]; ctx.fillRect(c * cw, r * lh, cw + 0.5, lh + 0.5); }
        if (cell[0] !== " ") {
          ctx.fillStyle = cell[1] || ink;
          ctx.fillText(cell[0], c * cw, r * lh + 1);
        } else if (onion) {
          var under = confirmed(onion, r, c);
          if (under[0] !== " ") {
            ctx.globalAlpha = 0.28;
            ctx.fillStyle = under[1] || ink;
            ctx.fillText(under[0], c * cw, r * lh + 1);
            ctx.globalAlpha = 1;
          }
        }
      }
    }
    if (playing) { return; }
    if (selection) {
      ctx.setLineDash([4, 3]);
      ctx.strokeStyle = "#8ab4ff";
      ctx.lineWidth = 1.5;
      var s = norm(selection);
      ctx.strokeRect(s.c0 * cw, s.r0 * lh, (s.c1 - s.c0 + 1) * cw, (s.r1 - s.r0 + 1) * lh);
      ctx.setLineDash([]);
    }
    ctx.strokeStyle = "#ffd24a";
    ctx.lineWidth = 2;
    ctx.strokeRect(cursor.c * cw, cursor.r * lh, cw, lh);
    Object.keys(others).forEach(function (member) {
      var o = others[member];
      if (o.frame !== frame.id) { return; }
      var tint = hue(o.member_id);
      ctx.strokeStyle = tint;
      ctx.lineWidth = 2;
      ctx.strokeRect(o.col * cw, o.row * lh, cw, lh);
      var name = o.user_id === myUser ? "you (another tab)" : who(o.user_id);
      ctx.font = "11px system-ui, sans-serif";
      var w = ctx.measureText(name).width + 6;
      ctx.fillStyle = tint;
      ctx.fillRect(o.col * cw, Math.max(0, o.row * lh - 14), w, 14);
      ctx.fillStyle = "#000";
      ctx.fillText(name, o.col * cw + 3, Math.max(0, o.row * lh - 13));
      ctx.font = font;
    });
  }
  function norm(s) {
    return { r0: Math.min(s.r0, s.r1), r1: Math.max(s.r0, s.r1), c0: Math.min(s.c0, s.c1), c1: Math.max(s.c0, s.c1) };
  }

  // --- tools ---------------------------------------------------------------------
  function tool() { return document.querySelector("input[name=tool]:checked").value; }
  function brush() {
    var ch = Array.from(byId("ed-char").value)[0] || "#";
    return [ch, byId("ed-fg-none").checked ? null : byId("ed-fg").value, byId("ed-bg-none").checked ? null : byId("ed-bg").value];
  }
  function at(event) {
    var rect = canvas.getBoundingClientRect();
    var c = Math.floor((event.clientX - rect.left) / rect.width * doc.width);
    var r = Math.floor((event.clientY - rect.top) / rect.height * doc.height);
    return { r: Math.max(0, Math.min(doc.height - 1, r)), c: Math.max(0, Math.min(doc.width - 1, c)) };
  }
  function linePoints(a, b) {
    var points = [], dr = Math.abs(b.r - a.r), dc = Math.abs(b.c - a.c);
    var sr = a.r < b.r ? 1 : -1, sc = a.c < b.c ? 1 : -1, err = dc - dr, r = a.r, c = a.c;
    for (;;) {
      points.push({ r: r, c: c });
      if (r === b.r && c === b.c) { break; }
      var e2 = 2 * err;
      if (e2 > -dr) { err -= dr; c += sc; }
      if (e2 < dc) { err += dc; r += sr; }
    }
    return points;
  }
  function rectPoints(a, b) {
    var s = norm({ r0: a.r, c0: a.c, r1: b.r, c1: b.c }), points = [];
    for (var c = s.c0; c <= s.c1; c++) { points.push({ r: s.r0, c: c }, { r: s.r1, c: c }); }
    for (var r = s.r0 + 1; r < s.r1; r++) { points.push({ r: r, c: s.c0 }, { r: r, c: s.c1 }); }
    return points;
  }
  function putDraft(points, value) {
    points.forEach(function (p) { draft.set(current + "|" + p.r + "|" + p.c, value); });
  }
  function commitDraft() {
    var cells = [];
    draft.forEach(function (value, key) {
      var parts = key.split("|");
      cells.push([parseInt(parts[1], 10), parseInt(parts[2], 10), value[0], value[1], value[2]]);
    });
    draft.clear();
    sendStroke(cells);
  }
  function flood(start) {
    var frame = doc.frames[current], target = shown(frame, start.r, start.c), value = brush();
    var same = function (cell) { return cell[0] === target[0] && cell[1] === target[1] && cell[2] === target[2]; };
    if (same(value)) { return []; }
    var seen = new Set(), stack = [start], out = [];
    while (stack.length && out.length < 20000) {
      var p = stack.pop(), k = p.r + "," + p.c;
      if (p.r < 0 || p.c < 0 || p.r >= doc.height || p.c >= doc.width || seen.has(k)) { continue; }
      seen.add(k);
      if (!same(shown(frame, p.r, p.c))) { continue; }
      out.push([p.r, p.c, value[0], value[1], value[2]]);
      stack.push({ r: p.r + 1, c: p.c }, { r: p.r - 1, c: p.c }, { r: p.r, c: p.c + 1 }, { r: p.r, c: p.c - 1 });
    }
    return out;
  }
  var down = null, last = null;
  canvas.addEventListener("pointerdown", function (event) {
    if (!current || !connected) { return; }
    stop();
    canvas.focus();
    canvas.setPointerCapture(event.pointerId);
    var p = at(event), t = tool();
    down = p; last = p; cursor = p;
    if (t === "draw" || t === "erase") { putDraft([p], t === "erase" ? [" ", null, null] : brush()); }
    else if (t === "line" || t === "rect") { putDraft([p], brush()); }
    else if (t === "select") { selection = { r0: p.r, c0: p.c, r1: p.r, c1: p.c }; }
    else if (t === "fill") { sendStroke(flood(p)); down = null; }
    else if (t === "pick") {
      var cell = shown(doc.frames[current], p.r, p.c);
      byId("ed-char").value = cell[0] === " " ? byId("ed-char").value : cell[0];
      if (cell[1]) { byId("ed-fg").value = cell[1]; } byId("ed-fg-none").checked = !cell[1];
      if (cell[2]) { byId("ed-bg").value = cell[2]; } byId("ed-bg-none").checked = !cell[2];
      down = null;
    } else { down = null; typeStart = p.c; }
    shareCursor();
    draw();
  });
  canvas.addEventListener("pointermove", function (event) {
    var p = at(event);
    if (!down) { return; }
    var t = tool();
    if (t === "draw" || t === "erase") { putDraft(linePoints(last, p), t === "erase" ? [" ", null, null] : brush()); }
    else if (t === "line") { draft.clear(); putDraft(linePoints(down, p), brush()); }
    else if (t === "rect") { draft.clear(); putDraft(rectPoints(down, p), brush()); }
    else if (t === "select") { selection.r1 = p.r; selection.c1 = p.c; }
    last = p; cursor = p;
    shareCursor();
    draw();
  });
  function release() {
    if (!down) { return; }
    down = null;
    if (draft.size) { commitDraft(); }
    status();
    draw();
  }
  canvas.addEventListener("pointerup", release);
  canvas.addEventListener("pointercancel", release);

  function copySelection() {
    if (!selection || !current) { return; }
    var s = norm(selection), frame = doc.frames[current], cells = [], lines = [];
    for (var r = s.r0; r <= s.r1; r++) {
      var line = "";
      for (var c = s.c0; c <= s.c1; c++) {
        var cell = shown(frame, r, c);
        cells.push([r - s.r0, c - s.c0, cell[0], cell[1], cell[2]]);
        line += cell[0];
      }
      lines.push(line);
    }
    clipboard = cells;
    if (navigator.clipboard && window.isSecureContext) { navigator.clipboard.writeText(lines.join("\n")).catch(function () {}); }
  }
  function paste() {
    if (!clipboard || !current) { return; }
    var cells = clipboard.map(function (c) { return [cursor.r + c[0], cursor.c + c[1], c[2], c[3], c[4]]; })
      .filter(function (c) { return c[0] < doc.height && c[1] < doc.width; });
    sendStroke(cells);
  }
  var typeStart = 0;
  var shortcuts = { b: "draw", e: "erase", t: "type", l: "line", r: "rect", g: "fill", s: "select", i: "pick" };
  canvas.addEventListener("keydown", function (event) {
    var mod = event.ctrlKey || event.metaKey, k = event.key;
    if (mod && (k === "z" || k === "Z")) { event.preventDefault(); send({ kind: event.shiftKey ? "redo" : "undo" }); return; }
    if (mod && (k === "y" || k === "Y")) { event.preventDefault(); send({ kind: "redo" }); return; }
    if (mod && (k === "c" || k === "C")) { event.preventDefault(); copySelection(); return; }
    if (mod && (k === "v" || k === "V")) { event.preventDefault(); paste(); return; }
    var moves = { ArrowLeft: [0, -1], ArrowRight: [0, 1], ArrowUp: [-1, 0], ArrowDown: [1, 0] };
    if (moves[k]) {
      event.preventDefault();
      cursor = { r: Math.max(0, Math.min(doc.height - 1, cursor.r + moves[k][0])), c: Math.max(0, Math.min(doc.width - 1, cursor.c + moves[k][1])) };
      shareCursor(); draw(); return;
    }
    if ((tool() === "draw" || tool() === "erase") && !mod && (k === " " || k === "Enter")) {
      event.preventDefault();  // keyboard drawing: paint the cell under the cursor
      sendStroke([[cursor.r, cursor.c].concat(tool() === "erase" ? [" ", null, null] : brush())]);
      return;
    }
    if (tool() === "fill" && !mod && (k === " " || k === "Enter")) {
      event.preventDefault();
      sendStroke(flood(cursor));
      return;
    }
    if (tool() === "type" && !mod) {
      if (k === "Enter") { event.preventDefault(); cursor = { r: Math.min(doc.height - 1, cursor.r + 1), c: typeStart }; draw(); return; }
      if (k === "Backspace") {
        event.preventDefault();
        cursor = { r: cursor.r, c: Math.max(0, cursor.c - 1) };
        sendStroke([[cursor.r, cursor.c, " ", null, null]]);
        return;
      }
      if (k.length === 1 || Array.from(k).length === 1) {
        event.preventDefault();
        var b = brush();
        sendStroke([[cursor.r, cursor.c, k, b[1], b[2]]]);
        cursor = { r: cursor.r, c: Math.min(doc.width - 1, cursor.c + 1) };
        shareCursor();
        return;
      }
    }
    if ((k === "Delete" || k === "Backspace") && selection) {
      event.preventDefault();
      var s = norm(selection), cells = [];
      for (var r = s.r0; r <= s.r1; r++) { for (var c = s.c0; c <= s.c1; c++) { cells.push([r, c, " ", null, null]); } }
      sendStroke(cells);
      return;
    }
    if (!mod && shortcuts[k.toLowerCase()]) {
      var input = document.querySelector("input[name=tool][value=" + shortcuts[k.toLowerCase()] + "]");
      if (input) { input.checked = true; }
    }
  });
  byId("ed-undo").addEventListener("click", function () { send({ kind: "undo" }); });
  byId("ed-redo").addEventListener("click", function () { send({ kind: "redo" }); });
  byId("ed-copy").addEventListener("click", copySelection);
  byId("ed-paste").addEventListener("click", paste);
  byId("ed-onion").addEventListener("change", draw);

  // --- frames ----------------------------------------------------------------------
  function newId() { return "k" + Date.now().toString(36) + Math.random().toString(36).slice(2, 6); }
  function position() {
    var live = order();
    return { live: live, index: live.findIndex(function (f) { return f.id === current; }) };
  }
  function timeline() {
    var list = byId("ed-frames"), at = position();
    list.replaceChildren();
    at.live.forEach(function (frame, i) {
      var li = document.createElement("li");
      var b = document.createElement("button");
      b.type = "button";
      b.textContent = (i + 1) + " · " + frame.duration + " ms";
      b.setAttribute("aria-pressed", frame.id === current ? "true" : "false");
      b.addEventListener("click", function () { stop(); current = frame.id; timeline(); draw(); shareCursor(); });
      li.appendChild(b);
      list.appendChild(li);
    });
    if (at.index >= 0) { byId("ed-duration").value = at.live[at.index].duration; }
    byId("ed-left").disabled = at.index <= 0;
    byId("ed-right").disabled = at.index < 0 || at.index >= at.live.length - 1;
    byId("ed-delete").disabled = at.live.length <= 1;
  }
  function after() {
    var at = position(), here = at.live[at.index], next = at.live[at.index + 1];
    return keyBetween(here ? here.key : null, next ? next.key : null);
  }
  byId("ed-add").addEventListener("click", function () {
    var id = newId(), here = doc.frames[current];
    selectNext = id;
    send({ kind: "frame_add", id: id, key: after(), duration_ms: here ? here.duration : 100 });
  });
  byId("ed-dup").addEventListener("click", function () {
    if (!current) { return; }
    var id = newId();
    selectNext = id;
    send({ kind: "frame_add", id: id, key: after(), duration_ms: doc.frames[current].duration, copy_of: current });
  });
  byId("ed-delete").addEventListener("click", function () {
    var at = position();
    if (at.live.length <= 1) { return; }
    var neighbour = at.live[at.index + 1] || at.live[at.index - 1];
    send({ kind: "frame_update", id: current, deleted: true });
    current = neighbour.id;
    timeline();
    draw();
  });
  function move(delta) {
    var at = position(), live = at.live, i = at.index;
    if (delta < 0 && i > 0) {
      // Moving before the first frame is moving that frame after this one.
      if (i === 1) {
        var first = live[0], next = live[2];
        send({ kind: "frame_update", id: first.id, key: keyBetween(live[1].key, next ? next.key : null) });
      } else {
        send({ kind: "frame_update", id: current, key: keyBetween(live[i - 2].key, live[i - 1].key) });
      }
    } else if (delta > 0 && i < live.length - 1) {
      var beyond = live[i + 2];
      send({ kind: "frame_update", id: current, key: keyBetween(live[i + 1].key, beyond ? beyond.key : null) });
    }
  }
  byId("ed-left").addEventListener("click", function () { move(-1); });
  byId("ed-right").addEventListener("click", function () { move(1); });
  byId("ed-duration").addEventListener("change", function () {
    var value = parseInt(byId("ed-duration").value, 10);
    if (current && value >= 1 && value <= 600000) { send({ kind: "frame_update", id: current, duration_ms: value }); }
  });
  var timer = null;
  function stop() {
    if (timer) { clearTimeout(timer); }
    timer = null;
    playing = null;
    byId("ed-play").textContent = "Play";
    byId("ed-play").setAttribute("aria-pressed", "false");
    draw();
  }
  byId("ed-play").addEventListener("click", function () {
    if (playing) { stop(); return; }
    var live = order();
    if (!live.length) { return; }
    var i = Math.max(0, position().index);
    byId("ed-play").textContent = "Stop";
    byId("ed-play").setAttribute("aria-pressed", "true");
    (function step() {
      live = order();
      i = i % live.length;
      playing = live[i].id;
      draw();
      timer = setTimeout(function () { i += 1; step(); }, live[i].duration);
    })();
  });
  window.addEventListener("resize", function () { layout(); draw(); });

  // --- chat ------------------------------------------------------------------------
  var chatSeen = {};
  var names = {}, asked = {};
  names[owner] = ownerHandle;
  function learn(userId) {
    if (!userId || names[userId] || asked[userId] || userId.indexOf("guest") === 0) { return; }
    asked[userId] = true;
    fetch("/api/artworks/" + encodeURIComponent(artworkId) + "/people?ids=" + encodeURIComponent(userId) +
      (share ? "&share=" + encodeURIComponent(share) : ""), { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : { people: {} }; })
      .then(function (data) {
        Object.keys(data.people).forEach(function (id) { names[id] = data.people[id]; });
        draw();
        document.querySelectorAll("#chat-log [data-user]").forEach(function (el) { el.textContent = who(el.dataset.user); });
      }, function () {});
  }
  function who(userId) {
    if (userId === myUser) { return "you"; }
    if (!userId || userId.indexOf("guest") === 0) { return "guest"; }
    learn(userId);
    return names[userId] ? "@" + names[userId] : "editor";
  }
  function say(message) {
    if (chatSeen[message.seq]) { return; }
    chatSeen[message.seq] = true;
    var li = document.createElement("li");
    var name = document.createElement("strong");
    name.textContent = who(message.user_id);
    name.dataset.user = message.user_id;
    var time = document.createElement("time");
    var at = new Date(message.at);
    time.dateTime = at.toISOString();
    time.textContent = at.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
    li.appendChild(name);
    li.appendChild(document.createTextNode(" "));
    li.appendChild(time);
    if (message.text) {
      var text = document.createElement("p");
      text.textContent = message.text;
      li.appendChild(text);
    }
    if (message.image && message.image.url) {
      var img = document.createElement("img");
      var scale = Math.min(1, 240 / Math.max(1, message.image.width));
      img.src = message.image.url + (share ? "?share=" + encodeURIComponent(share) : "");
      img.alt = "image from " + who(message.user_id);
      img.width = Math.round(message.image.width * scale);
      img.height = Math.round(message.image.height * scale);
      img.className = "chat-image";
      li.appendChild(img);
    }
    var log = byId("chat-log");
    log.appendChild(li);
    log.scrollTop = log.scrollHeight;
  }
  var chatForm = byId("chat-form");
  if (chatForm) {
    chatForm.addEventListener("submit", function (event) {
      event.preventDefault();
      var input = byId("chat-text");
      if (!connected || !input.value.trim()) { return; }
      socket.send(JSON.stringify({ type: "chat", text: input.value }));
      input.value = "";
    });
    // An image (picked or pasted) is uploaded first, then named by a chat message.
    var picker = byId("chat-image"), chatError = byId("chat-error");
    var attach = function (file) {
      if (!file || !connected) { return; }
      chatError.hidden = true;
      fetch("/api/artworks/" + encodeURIComponent(artworkId) + "/chat/images" +
        (share ? "?share=" + encodeURIComponent(share) : ""),
        { method: "POST", credentials: "same-origin", body: file })
        .then(function (r) { return r.json().then(function (body) { return r.ok ? body : Promise.reject(body); }); })
        .then(function (image) {
          var input = byId("chat-text");
          socket.send(JSON.stringify({ type: "chat", text: input.value, image: image.id }));
          input.value = "";
        }, function (body) {
          chatError.textContent = (body && body.error && body.error.message) || "The image could not be sent.";
          chatError.hidden = false;
        });
    };
    byId("chat-attach").addEventListener("click", function () { picker.click(); });
    picker.addEventListener("change", function () { attach(picker.files[0]); picker.value = ""; });
    byId("chat-text").addEventListener("paste", function (event) {
      var files = event.clipboardData ? event.clipboardData.files : [];
      if (files.length && files[0].type.indexOf("image/") === 0) { event.preventDefault(); attach(files[0]); }
    });
  }
  window.asciihubEditor = {
    text: function (frameId) {
      var frame = doc.frames[frameId || current], lines = [];
      for (var r = 0; r < doc.height; r++) {
        var line = "";
        for (var c = 0; c < doc.width; c++) { line += shown(frame, r, c)[0]; }
        lines.push(line);
      }
      return lines.join("\n");
    },
    frames: function () { return order().map(function (f) { return f.id; }); },
    current: function () { return current; },
    pending: function () { return outbox.length; }
  };
  status();
  connect();
})();
