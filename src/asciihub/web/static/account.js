// Sends the login or signup form as JSON (the API takes JSON only), then goes home.
(function () {
  "use strict";
  var form = document.getElementById("auth-form");
  var error = document.getElementById("auth-error");
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var body = {};
    new FormData(form).forEach(function (value, key) {
      if (value !== "") { body[key] = value; }
    });
    fetch(form.dataset.endpoint, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body)
    }).then(function (response) {
      if (response.ok) { window.location.assign("/"); return null; }
      return response.json().then(function (data) {
        error.textContent = data.error ? data.error.message : "That did not work.";
        error.hidden = false;
      });
    });
  });
})();
