// The artwork page's live part: joins /ws/artworks/{id}, shows how many people are
// looking right now, and watches together: an editor who hosts sends play, pause,
// seek and speed; everyone else's player follows the host on the server's clock.
// Nothing shows without sockets.
(function () {
  "use strict";
  var root = document.querySelector("article.artwork");
  var label = document.getElementById("live-viewers");
  if (!root || !label || !("WebSocket" in window)) { return; }
  var id = root.dataset.id;
  var share = root.dataset.share || new URLSearchParams(window.location.search).get("share");
  var clientId = "v" + Math.random().toString(36).slice(2, 12);
  var retry = 500;
  var stage = document.getElementById("stage");
  var hostBox = document.getElementById("host");
  var offset = 0;  // server clock minus ours, from the time round trips
  var isHost = false;
  var current = null;

  function serverNow() { return Date.now() + offset; }
  function followHost(state) {
    current = state;
    if (!isHost && window.asciihubPlayer && state && state.at) { window.asciihubPlayer.follow(state, serverNow()); }
  }

  function connect() {
    var scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
    var url = scheme + "//" + window.location.host + "/ws/artworks/" + encodeURIComponent(id) +
      (share ? "?share=" + encodeURIComponent(share) : "");
    var socket = new WebSocket(url);
    socket.addEventListener("open", function () {
      retry = 500;
      socket.send(JSON.stringify({ type: "hello", v: 1, client_id: clientId }));
      socket.send(JSON.stringify({ type: "time", client_time: Date.now() }));
    });
    if (stage) {
      stage.addEventListener("player", function (event) {
        if (isHost && socket.readyState === 1) {
          socket.send(JSON.stringify({ type: "playback", playing: event.detail.playing, position_ms: event.detail.position_ms, rate: event.detail.rate }));
        }
      });
    }
    socket.addEventListener("message", function (event) {
      var message;
      try { message = JSON.parse(event.data); } catch (e) { return; }
      if (message.type === "welcome") {
        if (message.role === "editor" && hostBox) { hostBox.hidden = false; }
        followHost(message.playback);
      } else if (message.type === "time") {
        var now = Date.now();
        offset = message.server_time - (message.client_time + (now - message.client_time) / 2);
      } else if (message.type === "playback") {
        followHost(message);
      } else if (message.type === "viewers") {
        label.textContent = message.count + " watching now";
        label.hidden = false;
      }
    });
    socket.addEventListener("close", function (event) {
      label.hidden = true;
      if (event.code === 4404 || event.code === 4403 || event.code === 1008) { return; }
      setTimeout(connect, retry);
      retry = Math.min(retry * 2, 15000);
    });
  }
  if (hostBox) {
    hostBox.querySelector("input").addEventListener("change", function (event) {
      isHost = event.target.checked;
      if (!isHost && current) { followHost(current); }
    });
  }
  connect();
})();
