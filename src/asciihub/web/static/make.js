// The make page: upload and convert, generate from a prompt, draw a banner with a
// live preview, remix a template. Jobs show their progress and land on the artwork.
(function () {
  "use strict";
  var A = window.asciihub;
  var byId = function (id) { return document.getElementById(id); };

  function needsLogin(form) {
    if (form.dataset.needsLogin === "yes") {
      window.location.assign("/login?next=/new");
      return true;
    }
    return false;
  }

  function values(form, skip) {
    var body = {};
    new FormData(form).forEach(function (value, key) {
      if (value !== "" && (!skip || skip.indexOf(key) < 0)) { body[key] = value; }
    });
    return body;
  }

  // Follow a job to its artwork page: progress and frames arrive live over
  // /ws/jobs/{id}; without sockets (or if the socket drops) poll GET /api/jobs/{id}.
  function follow(jobId, bar, statusId, liveId) {
    bar.hidden = false;
    bar.value = 0;
    A.say(statusId, "Queued…");
    var live = liveId ? byId(liveId) : null;
    function progress(fraction, status) {
      bar.value = fraction;
      A.say(statusId, status === "queued" ? "Queued…" : "Working… " + Math.round(fraction * 100) + "%");
    }
    function land(artworkId) {
      bar.value = 1;
      A.say(statusId, "Done. Opening the artwork…");
      window.location.assign("/a/" + artworkId);
    }
    function poll() {
      return A.pollJob("/api/jobs/" + jobId, function (fraction, job) { progress(fraction, job.status); })
        .then(function (job) { land(job.artwork_id); });
    }
    if (!("WebSocket" in window)) { return poll(); }
    return new Promise(function (resolve, reject) {
      var finished = false, frames = 0;
      var scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
      var socket;
      try { socket = new WebSocket(scheme + "//" + window.location.host + "/ws/jobs/" + encodeURIComponent(jobId)); }
      catch (e) { poll().then(resolve, reject); return; }
      socket.addEventListener("message", function (event) {
        var message;
        try { message = JSON.parse(event.data); } catch (e) { return; }
        if (message.type === "hello" && message.job) {
          progress(message.job.progress || 0, message.job.status);
        } else if (message.type === "progress") {
          progress(message.progress || 0, "running");
        } else if (message.type === "frame" && live && message.frame) {
          frames += 1;
          live.hidden = false;
          live.textContent = message.frame.text;
          A.say(statusId, "Working… frame " + message.index + (bar.value ? " · " + Math.round(bar.value * 100) + "%" : ""));
        } else if (message.type === "done") {
          finished = true;
          land(message.artwork_id);
          resolve();
        } else if (message.type === "failed") {
          finished = true;
          reject(new Error((message.error && message.error.message) || "The job failed."));
        }
      });
      socket.addEventListener("close", function () {
        if (!finished) { poll().then(resolve, reject); }
      });
    });
  }

  function failed(form, statusId, bar) {
    return function (err) {
      if (bar) { bar.hidden = true; }
      A.say(statusId, err.message, true);
      form.querySelector("button[type=submit]").disabled = false;
    };
  }

  // Upload: drop zone, preview, submit.
  var convertForm = byId("convert-form");
  var drop = byId("drop"), file = byId("file"), preview = byId("preview"), dropText = byId("drop-text");
  function showFile(chosen) {
    if (!chosen) { return; }
    dropText.textContent = chosen.name + " (" + Math.ceil(chosen.size / 1024) + " KB) — choose another";
    var video = byId("preview-video");
    if (video.src) { URL.revokeObjectURL(video.src); video.removeAttribute("src"); }
    video.hidden = true;
    preview.hidden = true;
    if (/^image\//.test(chosen.type)) {
      var reader = new FileReader();
      reader.onload = function () { preview.src = reader.result; preview.hidden = false; };
      reader.readAsDataURL(chosen);
    } else if (/^video\//.test(chosen.type)) {
      video.src = URL.createObjectURL(chosen);
      video.hidden = false;
    }
    var title = convertForm.querySelector("input[name=title]");
    if (!title.value) { title.placeholder = chosen.name.replace(/\.[^.]+$/, ""); }
  }
  file.addEventListener("change", function () { showFile(file.files[0]); });
  ["dragenter", "dragover"].forEach(function (name) {
    drop.addEventListener(name, function (e) { e.preventDefault(); drop.classList.add("over"); });
  });
  ["dragleave", "drop"].forEach(function (name) {
    drop.addEventListener(name, function (e) { e.preventDefault(); drop.classList.remove("over"); });
  });
  drop.addEventListener("drop", function (e) {
    if (e.dataTransfer && e.dataTransfer.files.length) {
      file.files = e.dataTransfer.files;
      showFile(file.files[0]);
    }
  });
  convertForm.addEventListener("submit", function (event) {
    event.preventDefault();
    if (needsLogin(convertForm)) { return; }
    var data = new FormData();
    var fields = values(convertForm, ["file"]);
    if (!fields.title) {
      var placeholder = convertForm.querySelector("input[name=title]").placeholder;
      if (placeholder && placeholder !== "Untitled") { fields.title = placeholder; }
    }
    Object.keys(fields).forEach(function (k) { data.append(k, fields[k]); });
    data.append("file", file.files[0]);
    var bar = byId("convert-progress");
    convertForm.querySelector("button[type=submit]").disabled = true;
    A.say("convert-status", "Uploading…");
    A.api("POST", "/api/convert", data).then(function (job) {
      return follow(job.job_id, bar, "convert-status", "convert-live");
    }).catch(failed(convertForm, "convert-status", bar));
  });

  // Prompt: scene chips, submit.
  var generateForm = byId("generate-form");
  document.querySelectorAll("[data-scene]").forEach(function (chip) {
    chip.addEventListener("click", function () {
      var box = byId("prompt-text");
      box.value = (box.value ? box.value.trim() + " " : "") + chip.dataset.scene;
      box.focus();
    });
  });
  generateForm.addEventListener("submit", function (event) {
    event.preventDefault();
    if (needsLogin(generateForm)) { return; }
    var body = values(generateForm);
    ["frames", "width", "height"].forEach(function (k) { if (body[k]) { body[k] = parseInt(body[k], 10); } });
    var bar = byId("generate-progress");
    generateForm.querySelector("button[type=submit]").disabled = true;
    A.api("POST", "/api/generate", body).then(function (job) {
      return follow(job.job_id, bar, "generate-status", "generate-live");
    }).catch(failed(generateForm, "generate-status", bar));
  });

  // Banner: live preview (debounced), save as an artwork.
  var bannerForm = byId("banner-form");
  var bannerPreview = byId("banner-preview");
  var lastBanner = null, pending = null, seq = 0;
  function bannerBody() {
    var v = values(bannerForm, ["title", "visibility"]);
    return { text: v.text || " ", font: v.font, width: parseInt(v.width, 10) || 80, align: v.align, border: v.border };
  }
  function refreshBanner() {
    var mine = ++seq;
    A.api("POST", "/api/banner", bannerBody()).then(function (drawn) {
      if (mine !== seq) { return; }
      lastBanner = drawn;
      bannerPreview.textContent = drawn.text;
      A.say("banner-status", drawn.width + "×" + drawn.height + " in " + drawn.font);
    }, function (err) {
      if (mine !== seq) { return; }
      lastBanner = null;
      A.say("banner-status", err.message, true);
    });
  }
  function schedule() { clearTimeout(pending); pending = setTimeout(refreshBanner, 200); }
  bannerForm.addEventListener("input", schedule);
  bannerForm.addEventListener("change", schedule);
  refreshBanner();
  bannerForm.addEventListener("submit", function (event) {
    event.preventDefault();
    if (needsLogin(bannerForm)) { return; }
    var v = values(bannerForm);
    A.api("POST", "/api/banner", bannerBody()).then(function (drawn) {
      return A.api("POST", "/api/artworks", {
        title: v.title || v.text,
        visibility: v.visibility || "private",
        tags: ["banner", drawn.font],
        frames: [{ text: drawn.text }]
      });
    }).then(function (created) {
      window.location.assign("/a/" + created.id);
    }, function (err) { A.say("banner-status", err.message, true); });
  });

  // Templates: remix into a new artwork.
  document.querySelectorAll("[data-remix]").forEach(function (b) {
    b.addEventListener("click", function () {
      b.disabled = true;
      A.api("POST", "/api/artworks/" + b.dataset.remix + "/remix").then(function (created) {
        window.location.assign("/a/" + created.id);
      }, function (err) { b.disabled = false; b.textContent = err.message; });
    });
  });
})();
