// The artwork page's live part: joins /ws/artworks/{id} as a watcher and shows how
// many people are looking at the artwork right now. Nothing shows without sockets.
(function () {
  "use strict";
  var root = document.querySelector("article.artwork");
  var label = document.getElementById("live-viewers");
  if (!root || !label || !("WebSocket" in window)) { return; }
  var id = root.dataset.id;
  var share = root.dataset.share || new URLSearchParams(window.location.search).get("share");
  var clientId = "v" + Math.random().toString(36).slice(2, 12);
  var retry = 500;

  function connect() {
    var scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
    var url = scheme + "//" + window.location.host + "/ws/artworks/" + encodeURIComponent(id) +
      (share ? "?share=" + encodeURIComponent(share) : "");
    var socket = new WebSocket(url);
    socket.addEventListener("open", function () {
      retry = 500;
      socket.send(JSON.stringify({ type: "hello", v: 1, client_id: clientId }));
    });
    socket.addEventListener("message", function (event) {
      var message;
      try { message = JSON.parse(event.data); } catch (e) { return; }
      if (message.type === "viewers") {
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
  connect();
})();
