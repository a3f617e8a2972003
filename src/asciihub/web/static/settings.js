// The settings page: preferences, avatar, API tokens, deleting the account.
(function () {
  "use strict";
  var A = window.asciihub;
  var byId = function (id) { return document.getElementById(id); };

  byId("prefs-form").addEventListener("submit", function (event) {
    event.preventDefault();
    var f = event.target;
    var body = {
      theme: f.theme.value || null,
      style: f.style.value || null,
      width: f.width.value ? parseInt(f.width.value, 10) : null,
      color_mode: f.color_mode.value || null
    };
    A.api("PUT", "/api/me/preferences", body).then(function (prefs) {
      document.documentElement.dataset.theme = prefs.theme || "system";
      A.say("prefs-status", "Saved.");
    }, function (err) { A.say("prefs-status", err.message, true); });
  });

  byId("avatar-form").addEventListener("submit", function (event) {
    event.preventDefault();
    var chosen = byId("avatar-file").files[0];
    if (!chosen) { return; }
    A.api("PUT", "/api/me/avatar", chosen, { "Content-Type": chosen.type || "application/octet-stream" })
      .then(function () { window.location.reload(); }, function (err) { A.say("avatar-status", err.message, true); });
  });
  var removeAvatar = byId("avatar-delete");
  if (removeAvatar) {
    removeAvatar.addEventListener("click", function () {
      A.api("DELETE", "/api/me/avatar").then(function () { window.location.reload(); },
        function (err) { A.say("avatar-status", err.message, true); });
    });
  }

  function revokeButton(id) {
    var b = document.createElement("button");
    b.type = "button";
    b.className = "danger";
    b.dataset.revoke = id;
    b.textContent = "Revoke";
    return b;
  }
  byId("token-form").addEventListener("submit", function (event) {
    event.preventDefault();
    var f = event.target;
    var scopes = Array.prototype.map.call(f.querySelectorAll("input[name=scopes]:checked"), function (c) { return c.value; });
    A.api("POST", "/api/tokens", { name: f.name.value, scopes: scopes }).then(function (created) {
      byId("token-secret").value = created.token;
      byId("token-new").hidden = false;
      byId("token-secret").select();
      var row = document.createElement("tr");
      row.dataset.id = created.id;
      [f.name.value, scopes.join(", "), new Date().toISOString().slice(0, 10), "never"].forEach(function (text) {
        var td = document.createElement("td");
        td.textContent = text;
        row.appendChild(td);
      });
      var cell = document.createElement("td");
      cell.appendChild(revokeButton(created.id));
      row.appendChild(cell);
      byId("token-rows").appendChild(row);
      byId("token-table").hidden = false;
      A.say("token-status", "Token created.");
      f.reset();
    }, function (err) { A.say("token-status", err.message, true); });
  });
  byId("token-rows").addEventListener("click", function (event) {
    var id = event.target.dataset ? event.target.dataset.revoke : null;
    if (!id) { return; }
    A.api("DELETE", "/api/tokens/" + id).then(function () {
      var row = event.target.closest("tr");
      row.parentNode.removeChild(row);
      A.say("token-status", "Token revoked.");
    }, function (err) { A.say("token-status", err.message, true); });
  });

  byId("delete-form").addEventListener("submit", function (event) {
    event.preventDefault();
    if (!window.confirm("Delete your account and every artwork, link and token? This cannot be undone.")) { return; }
    A.api("DELETE", "/api/me", { password: event.target.password.value }).then(function () {
      window.location.assign("/");
    }, function (err) { A.say("delete-status", err.message, true); });
  });

  var exportData = byId("export-data");
  if (exportData) {
    exportData.addEventListener("click", function () {
      var bar = byId("export-data-progress"), link = byId("export-data-link");
      exportData.disabled = true;
      link.hidden = true;
      bar.value = 0;
      bar.hidden = false;
      A.say("export-data-status", "Preparing the archive…");
      A.api("POST", "/api/me/export-all").then(function (job) {
        return A.pollJob("/api/jobs/" + job.job_id, function (fraction) { bar.value = fraction; })
          .then(function () { return job; });
      }).then(function (job) {
        bar.value = 1;
        // This site's own address (download_url is built on the configured public_url).
        link.href = "/api/me/export-all/" + job.job_id + "/download";
        link.hidden = false;
        exportData.disabled = false;
        A.say("export-data-status", "Your archive is ready.");
        link.click();
      }, function (err) {
        bar.hidden = true;
        exportData.disabled = false;
        A.say("export-data-status", err.message, true);
      });
    });
  }
})();
