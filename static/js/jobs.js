/* Live job progress for the host's pages.
 *
 *   CrowdSwapJobs.watchRoom(roomId, onEvent)  open ws(s)://<host>/ws/rooms/<roomId>/ and call onEvent(job)
 *                                            for each {id, kind, status, progress, stage, error, payload, result}
 *   CrowdSwapJobs.track(jobId)               poll /api/jobs/<id>/ for this job whenever the socket is closed
 *   CrowdSwapJobs.retry(jobId)               re-queue a failed job; resolves with its new state
 *   CrowdSwapJobs.isLive()                   true while the room socket is open (progress is pushed)
 *
 * The socket is a courtesy: when it drops (proxy timeout, phone asleep, server restart) the page polls the
 * jobs it tracks and reconnects with backoff, then polls once more so nothing that happened meanwhile is lost. */
(function () {
  "use strict";

  var POLL_MS = 3000;
  var RECONNECT_MIN_MS = 1000;
  var RECONNECT_MAX_MS = 30000;
  var FINISHED = { done: true, failed: true };

  var listeners = [];
  var tracked = {}; // job id -> last status seen
  var socket = null;
  var socketOpen = false;
  var roomWatched = null;
  var reconnectDelay = RECONNECT_MIN_MS;
  var pollTimer = null;

  function csrfToken() {
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    if (match) return decodeURIComponent(match[1]);
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function emit(job) {
    if (!job || job.id === undefined) return;
    if (tracked.hasOwnProperty(job.id)) {
      if (FINISHED[job.status]) delete tracked[job.id];
      else tracked[job.id] = job.status;
    }
    for (var i = 0; i < listeners.length; i++) {
      try {
        listeners[i](job);
      } catch (err) {
        // One broken listener must not stop the others from updating.
        if (window.console) console.error(err);
      }
    }
  }

  function asEvent(body) {
    return {
      id: body.id,
      kind: body.kind,
      status: body.status,
      progress: body.progress,
      stage: body.stage,
      error: body.error,
      payload: body.payload,
      result: body.result,
    };
  }

  function fetchJob(jobId) {
    return fetch("/api/jobs/" + encodeURIComponent(jobId) + "/", {
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    }).then(function (response) {
      if (response.status === 404) {
        delete tracked[jobId]; // deleted with its room or photo: nothing left to watch
        return null;
      }
      if (!response.ok) throw new Error("job " + jobId + ": HTTP " + response.status);
      return response.json().then(asEvent);
    });
  }

  function pollOnce() {
    var ids = Object.keys(tracked);
    return Promise.all(
      ids.map(function (id) {
        return fetchJob(id)
          .then(emit)
          .catch(function () {
            /* offline for a moment: the next round tries again */
          });
      })
    );
  }

  function schedulePolling() {
    if (pollTimer || socketOpen) return;
    pollTimer = window.setInterval(function () {
      if (socketOpen) return stopPolling();
      if (Object.keys(tracked).length) pollOnce();
    }, POLL_MS);
  }

  function stopPolling() {
    if (pollTimer) window.clearInterval(pollTimer);
    pollTimer = null;
  }

  function connect() {
    if (!roomWatched || !("WebSocket" in window)) {
      schedulePolling();
      return;
    }
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    socket = new WebSocket(scheme + window.location.host + "/ws/rooms/" + encodeURIComponent(roomWatched) + "/");
    socket.onopen = function () {
      socketOpen = true;
      reconnectDelay = RECONNECT_MIN_MS;
      stopPolling();
      // Catch up on whatever finished while the socket was down.
      pollOnce();
    };
    socket.onmessage = function (message) {
      var data;
      try {
        data = JSON.parse(message.data);
      } catch (err) {
        return;
      }
      if (data && data.type === "job") emit(data.job);
    };
    socket.onclose = function (event) {
      socketOpen = false;
      socket = null;
      schedulePolling();
      // 4403: not the owner (or signed out); reconnecting would be refused again, so keep polling only.
      if (event && event.code === 4403) return;
      window.setTimeout(connect, reconnectDelay);
      reconnectDelay = Math.min(reconnectDelay * 2, RECONNECT_MAX_MS);
    };
  }

  function watchRoom(roomId, onEvent) {
    if (typeof onEvent === "function") listeners.push(onEvent);
    if (roomWatched === String(roomId)) return;
    roomWatched = String(roomId);
    if (socket) socket.close();
    else connect();
  }

  function track(jobId) {
    if (jobId === undefined || jobId === null || jobId === "") return;
    if (!tracked.hasOwnProperty(jobId)) tracked[jobId] = "queued";
    if (!socketOpen) schedulePolling();
  }

  function retry(jobId) {
    return fetch("/api/jobs/" + encodeURIComponent(jobId) + "/retry/", {
      method: "POST",
      credentials: "same-origin",
      headers: { Accept: "application/json", "X-CSRFToken": csrfToken() },
    }).then(function (response) {
      return response.json().then(function (body) {
        if (!response.ok) throw new Error(body.detail || "Could not retry: HTTP " + response.status);
        var job = asEvent(body);
        track(job.id);
        emit(job);
        return job;
      });
    });
  }

  // Retry buttons anywhere on the page: <button data-job-retry="42">Retry</button>.
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-job-retry]");
    if (!button || button.form) return; // inside a form: the HTML endpoint handles it without script
    event.preventDefault();
    button.disabled = true;
    retry(button.getAttribute("data-job-retry"))
      .catch(function (err) {
        window.alert(err.message);
      })
      .then(function () {
        button.disabled = false;
      });
  });

  function isLive() {
    return socketOpen;
  }

  window.CrowdSwapJobs = { watchRoom: watchRoom, track: track, retry: retry, poll: pollOnce, isLive: isLive };
})();
