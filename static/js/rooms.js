/* Room pages: drag-and-drop uploads with a progress bar per file, live photo and crowd states.
 * Live updates come from CrowdSwapJobs (static/js/jobs.js) when it is loaded; without it the page
 * polls the rooms API, so it keeps working either way. */
(function () {
  "use strict";

  var UPLOADS_AT_ONCE = 2; // enough to keep the line busy without starving the page
  var POLL_MS = 3000;
  var POLL_LIMIT = 400; // about 20 minutes, then stop: a reload resumes

  function csrfToken() {
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    if (match) return decodeURIComponent(match[1]);
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function badge(kind, text) {
    return el("span", "badge" + (kind ? " " + kind : ""), text);
  }

  function retryButton(jobId) {
    // jobs.js re-queues the job through the API and pushes its new state to onJobEvent.
    var button = el("button", "button small", "Retry");
    button.type = "button";
    button.setAttribute("data-job-retry", String(jobId));
    return button;
  }

  // The photo row is the truth (the server settles it when its job fails for good); a job event
  // only adds live progress while the photo is still being processed.
  function renderPhotoState(card, photo, job) {
    var state = card.querySelector(".photo-state");
    if (!state) return;
    state.textContent = "";
    var status = photo ? photo.status : card.dataset.status;
    if (!photo && job && (job.status === "queued" || job.status === "running")) {
      status = job.status === "running" ? "processing" : "queued";
    }
    card.dataset.status = status;
    if (status === "done") {
      var n = photo ? photo.face_count : 0;
      state.appendChild(badge("success", n + (n === 1 ? " face" : " faces")));
    } else if (status === "failed") {
      state.appendChild(badge("danger", "Failed"));
      state.appendChild(document.createTextNode(" "));
      state.appendChild(el("span", "error small", (photo && photo.error) || ""));
      if (photo && photo.retryable && photo.job) state.appendChild(retryButton(photo.job));
    } else if (status === "processing") {
      var label = "Processing…";
      if (job && job.progress) label = job.stage + " " + job.progress + "%";
      state.appendChild(badge("info", label));
      if (job && job.progress) {
        var bar = el("div", "progress");
        var inner = el("div", "bar");
        inner.style.width = job.progress + "%";
        bar.appendChild(inner);
        state.appendChild(bar);
      }
    } else {
      state.appendChild(badge("", "Queued"));
    }
  }

  function photoCard(photo) {
    var card = el("li", "card photo-card");
    card.id = "photo-" + photo.id;
    card.dataset.photoId = photo.id;
    card.dataset.status = photo.status;
    var img = el("img", "photo-thumb");
    img.src = photo.image_url;
    img.alt = photo.original_name;
    img.loading = "lazy";
    card.appendChild(img);
    var body = el("div", "stack tight");
    body.appendChild(el("span", "small photo-name", photo.original_name));
    body.appendChild(el("span", "photo-state"));
    card.appendChild(body);
    renderPhotoState(card, photo, null);
    return card;
  }

  /* The overall count of an upload: a photo is ready once its faces are found, not when its bytes arrive.
   * Each entry goes sending -> finding -> ready, or to failed (refused, or its faces could not be found). */
  function uploadBatch() {
    var box = document.getElementById("upload-summary");
    var entries = [];
    var byPhoto = {};

    function render() {
      if (!box) return;
      var counts = { sending: 0, finding: 0, ready: 0, failed: 0 };
      entries.forEach(function (entry) {
        counts[entry.state]++;
      });
      var total = entries.length - counts.failed;
      box.hidden = entries.length === 0;
      var settled = counts.sending + counts.finding === 0;
      document.getElementById("upload-count").textContent =
        settled && total > 0
          ? (total === 1 ? "The photo is ready" : "All " + total + " photos ready")
          : counts.ready + " of " + total + (total === 1 ? " photo ready" : " photos ready");
      var detail = [];
      if (counts.sending) detail.push(counts.sending + " uploading");
      if (counts.finding) detail.push(counts.finding + " finding faces");
      if (counts.failed) detail.push(counts.failed + " could not be used");
      document.getElementById("upload-detail").textContent = detail.join(" · ");
      var percent = total ? Math.round((100 * counts.ready) / total) : 100;
      var bar = document.getElementById("upload-bar");
      bar.style.width = percent + "%";
      bar.parentNode.setAttribute("aria-valuenow", String(percent));
      bar.parentNode.classList.toggle("success", settled && counts.ready > 0);
      // Once all are settled the count says it all: only the files that need attention keep a row.
      box.classList.toggle("settled", settled);
    }

    return {
      add: function () {
        var entry = { state: "sending", photo: null };
        entries.push(entry);
        render();
        return entry;
      },
      set: function (entry, state, photoId) {
        entry.state = state;
        if (photoId) {
          entry.photo = photoId;
          byPhoto[photoId] = entry;
        }
        render();
      },
      settle: function (photo) {
        var entry = byPhoto[photo.id];
        if (!entry) return;
        if (photo.status === "done") entry.state = "ready";
        else if (photo.status === "failed") entry.state = "failed";
        render();
      },
      startIfSettled: function () {
        // A new choice of files after the last one finished starts a new count.
        var busy = entries.some(function (entry) {
          return entry.state === "sending" || entry.state === "finding";
        });
        if (!busy) {
          entries = [];
          byPhoto = {};
        }
      },
    };
  }

  function initRoom(root) {
    var roomId = root.dataset.roomId;
    var photosApi = root.dataset.photosApi;
    var form = document.getElementById("dropzone");
    var input = document.getElementById("photo-files");
    var uploadList = document.getElementById("upload-list");
    var photoList = document.getElementById("photo-list");
    var queue = [];
    var active = 0;
    var peopleStale = false;
    var uploadRows = {}; // photo id -> its row in the upload list
    var batch = uploadBatch();
    var button = document.getElementById("upload-button");
    // With this script, choosing or dropping files starts the upload: the button is only for no-JS.
    if (button) button.hidden = true;

    function settleRow(photo) {
      if (photo) batch.settle(photo);
      var item = photo && uploadRows[photo.id];
      if (!item) return;
      if (photo.status === "done") {
        item.status.textContent = "ready — " + photo.face_count + (photo.face_count === 1 ? " face" : " faces");
        item.status.className = "small";
        item.bar.style.width = "100%";
        item.bar.parentNode.classList.add("success");
        item.row.classList.add("is-ready");
        delete uploadRows[photo.id];
      } else if (photo.status === "failed") {
        item.status.textContent = photo.error;
        item.status.className = "error small";
        item.bar.style.width = "100%";
        item.bar.parentNode.classList.add("danger");
        delete uploadRows[photo.id];
      }
    }

    function refreshPeople() {
      // The people gallery is server-rendered: the people module swaps the fresh section in.
      peopleStale = false;
      if (window.CrowdSwapPeople) window.CrowdSwapPeople.refresh();
    }

    function refreshPhoto(photoId, job) {
      return fetch(photosApi + photoId + "/", { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (photo) {
          var card = document.getElementById("photo-" + photoId);
          if (photo && card) renderPhotoState(card, photo, job);
          settleRow(photo);
          return photo;
        })
        .catch(function () { return null; });
    }

    function onJobEvent(job) {
      if (!job || job.kind !== "photo" || !job.payload) return;
      var card = document.getElementById("photo-" + job.payload.photo_id);
      if (!card) return;
      if (job.status === "done" || job.status === "failed") {
        refreshPhoto(job.payload.photo_id, job);
        if (!peopleStale) {
          peopleStale = true;
          setTimeout(refreshPeople, 800); // several photos often finish together: refresh once
        }
      } else {
        renderPhotoState(card, null, job);
      }
    }

    function pending() {
      return photoList ? photoList.querySelectorAll('[data-status="queued"], [data-status="processing"]').length : 0;
    }

    var polls = 0;
    var polling = false;
    function poll() {
      // Without live events, ask the API until every photo has settled.
      if (polling) return;
      polling = true;
      (function tick() {
        if (!pending() || polls++ > POLL_LIMIT) { polling = false; return; }
        fetch(photosApi, { credentials: "same-origin", headers: { Accept: "application/json" } })
          .then(function (r) { return r.ok ? r.json() : []; })
          .then(function (photos) {
            var settled = false;
            photos.forEach(function (photo) {
              var card = document.getElementById("photo-" + photo.id);
              if (!card) return;
              var before = card.dataset.status;
              renderPhotoState(card, photo, null);
              settleRow(photo);
              if (before !== photo.status && (photo.status === "done" || photo.status === "failed")) settled = true;
            });
            if (settled) refreshPeople();
          })
          .catch(function () {})
          .then(function () { setTimeout(tick, POLL_MS); });
      })();
    }

    // Photos still being processed when the page opened are part of the count too.
    Array.prototype.forEach.call(
      photoList ? photoList.querySelectorAll('[data-status="queued"], [data-status="processing"]') : [],
      function (card) {
        batch.set(batch.add(), "finding", Number(card.dataset.photoId));
      }
    );

    var live = window.CrowdSwapJobs && typeof window.CrowdSwapJobs.watchRoom === "function";
    if (live) {
      window.CrowdSwapJobs.watchRoom(roomId, onJobEvent);
      // Pages loaded mid-processing: register jobs so jobs.js can poll them if the socket drops.
      fetch(photosApi, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) { return r.ok ? r.json() : []; })
        .then(function (photos) {
          photos.forEach(function (p) {
            if ((p.status === "queued" || p.status === "processing") && p.job) window.CrowdSwapJobs.track(p.job);
          });
        })
        .catch(function () {});
    }
    // Polling also covers a socket that never connects; it stops by itself once nothing is pending.
    poll();

    function addRow(file) {
      var row = el("li", "upload-item");
      row.appendChild(el("span", "small", file.name + " "));
      var status = el("span", "small muted", "waiting");
      row.appendChild(status);
      var bar = el("div", "progress");
      var inner = el("div", "bar");
      inner.style.width = "0%";
      bar.appendChild(inner);
      row.appendChild(bar);
      uploadList.appendChild(row);
      return { row: row, status: status, bar: inner, entry: batch.add() };
    }

    function finish(item, xhr) {
      var body = null;
      try { body = JSON.parse(xhr.responseText); } catch (e) { body = null; }
      // Half way: the bytes arrived; the other half is finding the faces.
      item.bar.style.width = "50%";
      var result = body && body.results && body.results[0];
      if (!result) {
        item.status.textContent = (body && body.detail) || "Upload failed (" + xhr.status + "). Try again.";
        item.status.className = "error small";
        item.bar.parentNode.classList.add("danger");
        batch.set(item.entry, "failed");
        return;
      }
      if (result.status === "added") {
        batch.set(item.entry, "finding", result.photo && result.photo.id);
        item.status.textContent = "uploaded — finding faces";
        item.status.className = "small";
        var photo = result.photo;
        if (photo) uploadRows[photo.id] = item;
        var empty = document.getElementById("photos-empty");
        if (empty) empty.remove();
        if (photo && photoList && !document.getElementById("photo-" + photo.id)) photoList.appendChild(photoCard(photo));
        if (photo && photo.job && live && window.CrowdSwapJobs.track) window.CrowdSwapJobs.track(photo.job);
        poll();
      } else if (result.status === "duplicate") {
        item.bar.style.width = "100%";
        item.status.textContent = "already uploaded";
        item.status.className = "small muted";
        batch.set(item.entry, "ready");
      } else {
        item.status.textContent = result.error;
        item.status.className = "error small";
        item.bar.style.width = "100%";
        item.bar.parentNode.classList.add("danger");
        batch.set(item.entry, "failed");
      }
    }

    function next() {
      while (active < UPLOADS_AT_ONCE && queue.length) {
        active++;
        send(queue.shift());
      }
    }

    function send(job) {
      var xhr = new XMLHttpRequest();
      var data = new FormData();
      data.append("files", job.file, job.file.name);
      xhr.open("POST", photosApi);
      xhr.setRequestHeader("X-CSRFToken", csrfToken());
      xhr.setRequestHeader("Accept", "application/json");
      job.item.status.textContent = "uploading";
      xhr.upload.addEventListener("progress", function (e) {
        if (e.lengthComputable) job.item.bar.style.width = Math.round((45 * e.loaded) / e.total) + "%";
      });
      xhr.addEventListener("load", function () { finish(job.item, xhr); });
      xhr.addEventListener("error", function () {
        job.item.status.textContent = "Network error: check your connection and upload this photo again.";
        job.item.status.className = "error small";
        batch.set(job.item.entry, "failed");
      });
      xhr.addEventListener("loadend", function () { active--; next(); });
      xhr.send(data);
    }

    function enqueueFiles(files) {
      batch.startIfSettled();
      Array.prototype.forEach.call(files, function (file) {
        queue.push({ file: file, item: addRow(file) });
      });
      next();
    }

    if (form && input) {
      form.addEventListener("submit", function (e) {
        e.preventDefault();
        if (input.files.length) enqueueFiles(input.files);
        input.value = "";
      });
      input.addEventListener("change", function () {
        if (input.files.length) enqueueFiles(input.files);
        input.value = "";
      });
      ["dragenter", "dragover"].forEach(function (name) {
        form.addEventListener(name, function (e) { e.preventDefault(); form.classList.add("is-over"); });
      });
      ["dragleave", "drop"].forEach(function (name) {
        form.addEventListener(name, function (e) { e.preventDefault(); form.classList.remove("is-over"); });
      });
      form.addEventListener("drop", function (e) {
        if (e.dataTransfer && e.dataTransfer.files.length) enqueueFiles(e.dataTransfer.files);
      });
    }
  }

  function initCrowds(root) {
    var busy = root.querySelectorAll('.crowd[data-status="queued"], .crowd[data-status="processing"]');
    if (!busy.length) return;
    // The boxed crowd is server-rendered: reload once its faces are found.
    if (window.CrowdSwapJobs && typeof window.CrowdSwapJobs.watchRoom === "function") {
      window.CrowdSwapJobs.watchRoom(root.dataset.roomId, function (job) {
        if (job && job.kind === "crowd" && (job.status === "done" || job.status === "failed")) location.reload();
      });
    }
    var polls = 0;
    (function tick() {
      if (polls++ > POLL_LIMIT) return;
      fetch(root.dataset.crowdsApi, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) { return r.ok ? r.json() : []; })
        .then(function (crowds) {
          var changed = crowds.some(function (c) {
            var section = document.getElementById("crowd-" + c.id);
            return section && section.dataset.status !== c.status && (c.status === "done" || c.status === "failed");
          });
          if (changed) location.reload();
          else setTimeout(tick, POLL_MS);
        })
        .catch(function () { setTimeout(tick, POLL_MS); });
    })();
  }

  document.addEventListener("DOMContentLoaded", function () {
    var room = document.getElementById("room");
    if (room) initRoom(room);
    var crowds = document.getElementById("crowds");
    if (crowds) initCrowds(crowds);
  });
})();
