// The artwork page's actions: share links, details, exports, remix, copy link.
(function () {
  "use strict";
  var A = window.asciihub;
  var root = document.querySelector("article.artwork");
  if (!root) { return; }
  var id = root.dataset.id;
  var share = root.dataset.share;
  var suffix = share ? "?share=" + encodeURIComponent(share) : "";
  var shareHeaders = share ? { "X-Share-Token": share } : undefined;

  function copyText(text, button) {
    var done = function () {
      var label = button.textContent;
      button.textContent = "Copied";
      setTimeout(function () { button.textContent = label; }, 1500);
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done, function () { A.say("action-status", text); });
    } else {
      A.say("action-status", text);
    }
  }

  var copyLink = document.getElementById("copy-link");
  if (copyLink) {
    copyLink.addEventListener("click", function () {
      copyText(window.location.origin + window.location.pathname, copyLink);
    });
  }

  // Share links: create, list, revoke.
  var shareDialog = document.getElementById("share-dialog");
  function expiry(iso) { return new Date(iso).toLocaleString(); }
  function listShares() {
    var list = document.getElementById("share-list");
    A.api("GET", "/api/artworks/" + id + "/shares").then(function (data) {
      list.replaceChildren();
      if (!data.items.length) {
        var none = document.createElement("li");
        none.className = "hint";
        none.textContent = "No live links.";
        list.appendChild(none);
      }
      data.items.forEach(function (item) {
        var li = document.createElement("li");
        li.textContent = item.permission + " link, expires " + expiry(item.expires_at) + " ";
        var revoke = document.createElement("button");
        revoke.type = "button";
        revoke.className = "danger";
        revoke.textContent = "Revoke";
        revoke.addEventListener("click", function () {
          A.api("DELETE", "/api/artworks/" + id + "/shares/" + item.id).then(listShares);
        });
        li.appendChild(revoke);
        list.appendChild(li);
      });
    }, function (err) { list.textContent = err.message; });
  }
  if (shareDialog) {
    shareDialog.addEventListener("opened", listShares);
    document.getElementById("share-form").addEventListener("submit", function (event) {
      event.preventDefault();
      var form = event.target;
      var body = { permission: form.permission.value, expires_in: parseInt(form.expires_in.value, 10) };
      A.api("POST", "/api/artworks/" + id + "/shares", body).then(function (created) {
        // The link on this site's own address (the API's url uses the configured public_url).
        var url = window.location.origin + "/s/" + created.token;
        document.getElementById("share-url").value = url;
        document.getElementById("share-new").hidden = false;
        document.getElementById("share-url").select();
        listShares();
      }, function (err) { document.getElementById("share-list").textContent = err.message; });
    });
  }

  // Title, visibility and tags.
  var editForm = document.getElementById("edit-form");
  if (editForm) {
    editForm.addEventListener("submit", function (event) {
      event.preventDefault();
      var body = { title: editForm.title.value };
      if (editForm.visibility) { body.visibility = editForm.visibility.value; }
      if (editForm.tags) {
        body.tags = editForm.tags.value.split(",").map(function (t) { return t.trim(); })
          .filter(function (t) { return t; });
      }
      A.api("PATCH", "/api/artworks/" + id + suffix, body, shareHeaders).then(function () {
        window.location.reload();
      }, function (err) { alertIn(editForm, err.message); });
    });
  }
  function alertIn(form, text) {
    var p = form.querySelector(".error") || document.createElement("p");
    p.className = "error";
    p.setAttribute("role", "alert");
    p.textContent = text;
    form.appendChild(p);
  }

  // Exports: ask, follow progress, then download.
  var exportDialog = document.getElementById("export-dialog");
  if (exportDialog) {
    var bar = document.getElementById("export-progress");
    var link = document.getElementById("export-link");
    var buttons = exportDialog.querySelectorAll("[data-format]");
    buttons.forEach(function (b) {
      b.addEventListener("click", function () {
        var format = b.dataset.format;
        var exportId = null;
        buttons.forEach(function (x) { x.disabled = true; });
        link.hidden = true;
        bar.hidden = false;
        bar.value = 0;
        A.say("export-status", "Rendering " + format.toUpperCase() + "…");
        var reenable = function () { buttons.forEach(function (x) { x.disabled = false; }); };
        A.api("POST", "/api/artworks/" + id + "/exports" + suffix, { format: format }, shareHeaders)
          .then(function (job) {
            exportId = job.export_id;
            return A.pollJob("/api/exports/" + exportId + suffix, function (fraction) { bar.value = fraction; });
          })
          .then(function (done) {
            bar.value = 1;
            // This site's own address (download_url is built on the configured public_url).
            link.href = "/api/exports/" + exportId + "/download" + suffix;
            link.textContent = "Download " + format.toUpperCase() + (done.size ? " (" + Math.ceil(done.size / 1024) + " KB)" : "");
            link.hidden = false;
            A.say("export-status", format.toUpperCase() + " is ready.");
            reenable();
            link.click();
          }, function (err) {
            bar.hidden = true;
            A.say("export-status", err.message, true);
            reenable();
          });
      });
    });
  }

  // Remix (or duplicate, for the owner): a new artwork of one's own, then go there.
  var remix = document.getElementById("remix");
  if (remix) {
    remix.addEventListener("click", function () {
      remix.disabled = true;
      A.api("POST", "/api/artworks/" + id + "/remix" + suffix, undefined, shareHeaders).then(function (created) {
        window.location.assign("/a/" + created.id);
      }, function (err) { remix.disabled = false; A.say("action-status", err.message, true); });
    });
  }
})();
