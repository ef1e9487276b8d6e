// pipekit-ci's one script: it only follows what changes (the run list, a run, a job's log)
// through the same /api/v1/ endpoints the pages are made of. No build step, no framework.
"use strict";

(function () {
  document.addEventListener("DOMContentLoaded", function () {
    var list = document.querySelector("[data-live-runs]");
    if (list) followRunList(list);
    var run = document.querySelector("[data-live-run]");
    if (run) followRun(run);
    var log = document.getElementById("log");
    if (log) followLog(log);
  });

  // The run list: asked again every 2 s (1 s while something runs), rows redrawn.
  function followRunList(table) {
    var query = table.getAttribute("data-live-runs");
    function refresh() {
      fetch("/api/v1/runs" + (query ? "?" + query : ""))
        .then(function (response) { return response.json(); })
        .then(function (body) {
          var tbody = table.querySelector("tbody");
          var rows = document.createDocumentFragment();
          var busy = false;
          body.runs.forEach(function (run) {
            if (run.status === "queued" || run.status === "running") busy = true;
            rows.appendChild(runRow(run));
          });
          tbody.replaceChildren(rows);
          setTimeout(refresh, busy ? 1000 : 2000);
        })
        .catch(function () { setTimeout(refresh, 5000); });
    }
    setTimeout(refresh, 1000);
  }

  function runRow(run) {
    var tr = document.createElement("tr");
    tr.setAttribute("data-run", run.id);
    var status = document.createElement("span");
    status.className = "status status-" + run.status;
    status.textContent = run.status;
    var cells = [
      status,
      link("/runs/" + run.id, String(run.number)),
      run.repository,
      run.branch || "—",
      code(run.commit.slice(0, 10)),
      link("/runs/" + run.id, (run.message || "").split("\n")[0]),
      run.author,
      run.trigger,
      run.duration_seconds == null ? "" : duration(run.duration_seconds)
    ];
    cells.forEach(function (cell) {
      var td = document.createElement("td");
      if (typeof cell === "string") td.textContent = cell; else td.appendChild(cell);
      tr.appendChild(td);
    });
    return tr;
  }

  function link(href, text) {
    var a = document.createElement("a");
    a.href = href;
    a.textContent = text;
    return a;
  }

  function code(text) {
    var c = document.createElement("code");
    c.textContent = text;
    return c;
  }

  function duration(seconds) {
    var whole = Math.floor(seconds);
    if (whole < 60) return seconds.toFixed(1) + " s";
    if (whole < 3600) return Math.floor(whole / 60) + " min " + String(whole % 60).padStart(2, "0") + " s";
    return Math.floor(whole / 3600) + " h " + String(Math.floor(whole % 3600 / 60)).padStart(2, "0") + " min";
  }

  // A run page: redrawn from the server (debounced) on each of the run's events. The run's
  // end is in its folder a little before the store records it, so after `run_finished` the
  // page is asked again until it no longer says the run is going on.
  function followRun(live) {
    if (live.getAttribute("data-going-on") !== "true") return;
    var id = live.getAttribute("data-live-run");
    var cursor = live.getAttribute("data-cursor");
    var source = new EventSource("/api/v1/runs/" + id + "/events?lines=false&last_event_id=" + encodeURIComponent(cursor));
    var pending = null;
    var ended = false;
    function redraw(attempt) {
      pending = null;
      fetch(location.href).then(function (response) { return response.text(); }).then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("live");
        var current = document.getElementById("live");
        if (fresh && current) current.replaceWith(fresh);
        var settled = fresh && fresh.getAttribute("data-going-on") !== "true";
        if (ended && !settled && attempt < 60) setTimeout(function () { redraw(attempt + 1); }, 250);
      });
    }
    function end() {
      if (ended) return;
      ended = true;
      source.close();
      if (pending) clearTimeout(pending);
      setTimeout(function () { redraw(0); }, 100);
    }
    source.onmessage = function (message) {
      var event = JSON.parse(message.data);
      if (event.kind === "run_finished") { end(); return; }
      if (!pending) pending = setTimeout(function () { redraw(0); }, 250);
    };
    // The stream also ends (closed by the server) for a run that ended without
    // `run_finished`: a cancelled queued run, a server that died.
    source.onerror = function () {
      if (source.readyState === EventSource.CLOSED || source.readyState === EventSource.CONNECTING) end();
    };
  }

  // A job's log: the last 5,000 lines, "load earlier", and new lines as they come.
  function followLog(pre) {
    var logUrl = pre.getAttribute("data-log");
    var job = pre.getAttribute("data-job");
    var tail = Number(pre.getAttribute("data-tail"));
    var goingOn = pre.getAttribute("data-going-on") === "true";
    var earlier = document.getElementById("load-earlier");
    var follow = document.getElementById("follow");
    var firstByte = 0;
    var firstLine = 1;

    function fetchWindow(query) {
      return fetch(logUrl + "?" + query).then(function (response) {
        return response.text().then(function (text) {
          return {
            text: text,
            start: Number(response.headers.get("x-pipekit-log-start")),
            end: Number(response.headers.get("x-pipekit-log-end")),
            first: Number(response.headers.get("x-pipekit-log-first-line"))
          };
        });
      });
    }

    fetchWindow("tail=" + tail).then(function (window) {
      var text = window.text;
      var end = window.end;
      // A line still being written is left to the stream, which sends it whole.
      if (goingOn && text.length && text[text.length - 1] !== "\n") {
        var cut = text.lastIndexOf("\n") + 1;
        end -= new TextEncoder().encode(text.slice(cut)).length;
        text = text.slice(0, cut);
      }
      var lines = splitLines(text);
      firstByte = window.start;
      firstLine = window.first;
      pre.appendChild(renderLines(lines, firstLine));
      earlier.hidden = firstByte === 0;
      scrollToTarget();
      if (follow.checked) scrollToEnd();
      if (goingOn) {
        var cursor = "e=0@0;" + job + "=" + (firstLine - 1 + lines.length) + "@" + end;
        if (firstLine - 1 + lines.length === 0) cursor = "e=0@0";
        stream(cursor);
      }
    });

    earlier.addEventListener("click", function () {
      fetchWindow("tail=" + tail + "&before=" + firstByte).then(function (window) {
        var lines = splitLines(window.text);
        firstByte = window.start;
        firstLine = window.first;
        pre.insertBefore(renderLines(lines, firstLine), pre.firstChild);
        earlier.hidden = firstByte === 0;
      });
    });

    function stream(cursor) {
      var source = new EventSource(pre.getAttribute("data-events") + "?job=" + encodeURIComponent(job) +
        "&last_event_id=" + encodeURIComponent(cursor));
      var queued = [];
      var scheduled = false;
      function flush() {
        scheduled = false;
        var fragment = document.createDocumentFragment();
        queued.forEach(function (line) { fragment.appendChild(renderLine(line.text, line.n)); });
        queued = [];
        pre.appendChild(fragment);
        if (follow.checked) scrollToEnd();
      }
      source.addEventListener("line", function (message) {
        var data = JSON.parse(message.data);
        (Array.isArray(data) ? data : [data]).forEach(function (line) { queued.push(line); });
        // Appended once a frame: a flood of lines costs one layout, not one each.
        if (!scheduled) { scheduled = true; requestAnimationFrame(flush); }
      });
      source.onmessage = function (message) {
        var event = JSON.parse(message.data);
        if (event.kind === "job_started" && event.job === job) setState("running");
        if (event.kind === "job_finished" && event.job === job) setState(event.state);
        if (event.kind === "run_finished") source.close();
      };
      // The browser reconnects with the last id by itself (a restarted server resumes the
      // stream); a run that is over, without `run_finished` (its server died), is let go.
      var runUrl = pre.getAttribute("data-events").replace(/\/events$/, "");
      source.onerror = function () {
        fetch(runUrl).then(function (response) { return response.json(); }).then(function (run) {
          if (run.status !== "queued" && run.status !== "running") source.close();
        }).catch(function () {});
      };
    }

    function setState(state) {
      var badge = document.getElementById("job-state");
      badge.textContent = state;
      badge.className = "status status-" + state;
    }

    function scrollToEnd() { window.scrollTo(0, document.body.scrollHeight); }

    function scrollToTarget() {
      if (!location.hash) return;
      var target = document.getElementById(location.hash.slice(1));
      if (target) target.scrollIntoView();
      follow.checked = false;
    }

    window.addEventListener("wheel", function (event) { if (event.deltaY < 0) follow.checked = false; });
  }

  function splitLines(text) {
    if (!text.length) return [];
    var lines = text.split("\n");
    if (lines[lines.length - 1] === "") lines.pop();
    return lines;
  }

  function renderLines(lines, first) {
    var fragment = document.createDocumentFragment();
    lines.forEach(function (text, index) { fragment.appendChild(renderLine(text, first + index)); });
    return fragment;
  }

  function renderLine(text, n) {
    var line = document.createElement("span");
    line.className = "line";
    line.id = "L" + n;
    var number = document.createElement("a");
    number.className = "n";
    number.href = "#L" + n;
    number.textContent = String(n);
    line.appendChild(number);
    appendAnsi(line, text);
    return line;
  }

  // SGR colours and styles become spans (text only through textContent: a log cannot inject
  // markup); other escape sequences are dropped.
  function appendAnsi(parent, text) {
    var pattern = /\x1b\[([0-9;?]*)([A-Za-z])/g;
    var classes = [];
    var last = 0;
    var match;
    while ((match = pattern.exec(text)) !== null) {
      append(parent, text.slice(last, match.index), classes);
      last = pattern.lastIndex;
      if (match[2] !== "m") continue;
      var codes = match[1] === "" ? [0] : match[1].split(";").map(Number);
      codes.forEach(function (code) {
        if (code === 0) classes = [];
        else if (code === 1) classes.push("ansi-bold");
        else if (code === 2) classes.push("ansi-dim");
        else if (code === 3) classes.push("ansi-italic");
        else if (code === 4) classes.push("ansi-underline");
        else if ((code >= 30 && code <= 37) || (code >= 90 && code <= 97)) {
          classes = classes.filter(function (c) { return !/^ansi-\d+$/.test(c); });
          classes.push("ansi-" + code);
        } else if (code === 39) classes = classes.filter(function (c) { return !/^ansi-\d+$/.test(c); });
        else if (code >= 40 && code <= 47) classes.push("ansi-bg-" + code);
        else if (code === 49) classes = classes.filter(function (c) { return !/^ansi-bg-/.test(c); });
      });
    }
    append(parent, text.slice(last), classes);
  }

  function append(parent, text, classes) {
    if (!text) return;
    if (!classes.length) { parent.appendChild(document.createTextNode(text)); return; }
    var span = document.createElement("span");
    span.className = classes.join(" ");
    span.textContent = text;
    parent.appendChild(span);
  }
})();
