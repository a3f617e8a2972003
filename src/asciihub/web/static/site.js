// Shared by every page: shows the controls that need JavaScript, log out, dialogs,
// copy buttons, and window.asciihub.api (JSON requests with clear error messages).
(function () {
  "use strict";

  function errorMessage(data, status) {
    if (data && data.error && data.error.message) { return data.error.message; }
    return "The request failed (HTTP " + status + ").";
  }

  // fetch JSON from the API; resolves with the parsed body, rejects with an Error
  // whose message is the API's own.
  function api(method, url, body, headers) {
    var options = { method: method, credentials: "same-origin", headers: headers || {} };
    if (body instanceof FormData || body instanceof Blob) {
      options.body = body;
    } else if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    return fetch(url, options).then(function (response) {
      if (response.status === 204) { return null; }
      return response.text().then(function (text) {
        var data = null;
        try { data = text ? JSON.parse(text) : null; } catch (e) { data = null; }
        if (!response.ok) {
          var error = new Error(errorMessage(data, response.status));
          error.status = response.status;
          throw error;
        }
        return data;
      });
    });
  }

  function say(id, text, isError) {
    var el = document.getElementById(id);
    if (!el) { return; }
    el.textContent = text;
    el.classList.toggle("error", !!isError);
  }

  function copyFrom(id, button) {
    var field = document.getElementById(id);
    if (!field) { return; }
    var text = field.value !== undefined ? field.value : field.textContent;
    var done = function () {
      var label = button.textContent;
      button.textContent = "Copied";
      setTimeout(function () { button.textContent = label; }, 1500);
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done, function () { field.select(); });
    } else {
      field.select();
      try { document.execCommand("copy"); done(); } catch (e) { /* selected for the user */ }
    }
  }

  // Poll a job until it is done or failed; onProgress(fraction, job) on each answer.
  function pollJob(url, onProgress) {
    return new Promise(function (resolve, reject) {
      var delay = 300;
      function step() {
        api("GET", url).then(function (job) {
          onProgress(job.progress || 0, job);
          if (job.status === "done") { resolve(job); return; }
          if (job.status === "failed") {
            reject(new Error((job.error && (job.error.message || job.error)) || "The job failed."));
            return;
          }
          delay = Math.min(delay * 1.3, 1500);
          setTimeout(step, delay);
        }, reject);
      }
      step();
    });
  }

  window.asciihub = { api: api, say: say, copyFrom: copyFrom, pollJob: pollJob };

  document.querySelectorAll("[data-js-only]").forEach(function (el) { el.hidden = false; });

  var logout = document.getElementById("logout");
  if (logout) {
    logout.addEventListener("click", function () {
      api("POST", "/api/auth/logout").then(function () { window.location.assign("/"); },
        function () { window.location.assign("/"); });
    });
  }

  document.addEventListener("click", function (event) {
    var target = event.target.closest ? event.target.closest("[data-open],[data-copy]") : null;
    if (!target) { return; }
    if (target.dataset.open) {
      var dialog = document.getElementById(target.dataset.open);
      if (dialog && dialog.showModal) {
        dialog.showModal();
        dialog.dispatchEvent(new CustomEvent("opened"));
      }
    } else if (target.dataset.copy) {
      copyFrom(target.dataset.copy, target);
    }
  });
})();
