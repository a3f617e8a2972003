// Sends the login or signup form as JSON (the API takes JSON only), then goes on.
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
    var button = form.querySelector("button[type=submit]");
    button.disabled = true;
    error.hidden = true;
    window.asciihub.api("POST", form.dataset.endpoint, body).then(function () {
      window.location.assign(form.dataset.next || "/");
    }, function (err) {
      error.textContent = err.message;
      error.hidden = false;
      button.disabled = false;
    });
  });
})();
