/* Offline-tolerant survey pages (survey/respondent/offline.py says what the server does).

   "Save and continue" posts the page with fetch. When the server cannot be reached, the
   page's answers are kept in localStorage under "peerpulse-offline:<page address>" (the link
   and page, nothing else: no names, no token for the form), the status region says so in the
   page's language, and the next page is shown from its <template> copy where there is one,
   so the person can go on. Copies are sent in page order when the connection returns (the
   `online` event, every 30 seconds, the next page load or save), each with a fresh CSRF token read
   from a page of the link (a token that expired, or a session lost while offline, loses
   nothing), and each is deleted once the server has taken it. Each copy carries the revision
   its page was shown at, so a copy sent twice is stored once and never over a newer save.
   An answer the server refuses (a number out of range) is posted as a plain form, so the
   server's own page shows the error with every answer as typed.

   On the withdrawal confirmation the script (data-offline-clear) deletes the link's copies.
   Without JavaScript none of this runs and the form posts as it always has. */
(function () {
  "use strict";
  var PREFIX = "peerpulse-offline:";
  var SKIPPED = { csrf_token: true, switch_language: true };
  var store = null;
  try {
    store = window.localStorage;
    store.getItem(PREFIX);
  } catch (error) {
    store = null;  /* storage switched off: pages post as without JavaScript */
  }

  function keysUnder(prefix) {
    var keys = [];
    for (var i = 0; i < store.length; i += 1) {
      var key = store.key(i);
      if (key && key.indexOf(prefix) === 0) { keys.push(key); }
    }
    return keys;
  }

  var me = document.querySelector("script[data-offline-clear]");
  if (me) {
    if (store) {
      var link = window.location.pathname.replace(/\/withdraw$/, "/");
      keysUnder(PREFIX + link).forEach(function (key) { store.removeItem(key); });
    }
    return;
  }

  var form = document.getElementById("page-form");
  var status = document.getElementById("offline-status");
  if (!form || !status || !store || !window.fetch || !window.URLSearchParams) { return; }
  var pagePrefix = PREFIX + window.location.pathname.replace(/\/page\/\d+$/, "/page/");
  var RETRY_MS = 30000;
  var busy = false;
  var swapped = false;
  var retry = null;

  function pathOf(address) { return new URL(address, window.location.href).pathname; }
  function numberOf(address) { return Number((/\/page\/(\d+)$/.exec(pathOf(address)) || [0, 0])[1]); }

  /* Whether the server's next page lies past the one shown (the thank-you page does). */
  function beyond(address) {
    var reached = numberOf(address);
    return !reached || reached > numberOf(window.location.pathname);
  }

  function say(message) {
    status.textContent = "";
    window.setTimeout(function () { status.textContent = message; }, 50);
  }

  function stored() {
    return keysUnder(pagePrefix).map(function (key) {
      var copy = null;
      try { copy = JSON.parse(store.getItem(key)); } catch (error) { copy = null; }
      if (!copy || !Array.isArray(copy.fields)) { store.removeItem(key); return null; }
      var address = key.slice(PREFIX.length);
      return { key: key, url: address, number: numberOf(address), fields: copy.fields, stored: true };
    }).filter(Boolean);
  }

  function thisPage() {
    var fields = [];
    new FormData(form).forEach(function (value, name) {
      if (!SKIPPED[name] && typeof value === "string") { fields.push([name, value]); }
    });
    var address = pathOf(form.action);
    return { key: PREFIX + address, url: address, number: numberOf(address), fields: fields, stored: false };
  }

  function keep(entry) {
    try {
      store.setItem(entry.key, JSON.stringify({ fields: entry.fields }));
      entry.stored = true;
    } catch (error) {
      entry.stored = false;  /* storage full: the answers stay on the page as typed */
    }
  }

  function formToken() {
    var input = form.elements.namedItem("csrf_token");
    return input ? input.value : null;
  }

  function freshToken() {
    return window.fetch(window.location.href, { credentials: "same-origin", cache: "no-store" })
      .then(function (response) {
        if (!response.ok) { throw new Error("no page"); }
        return response.text();
      })
      .then(function (html) {
        var page = new DOMParser().parseFromString(html, "text/html");
        var input = page.querySelector('input[name="csrf_token"]');
        return input ? input.value : null;
      });
  }

  function body(entry, token) {
    var data = new URLSearchParams();
    entry.fields.forEach(function (pair) { data.append(pair[0], pair[1]); });
    if (token) { data.append("csrf_token", token); }
    return data;
  }

  function keepFrom(entries, index) {
    entries.slice(index).forEach(function (entry) { if (!entry.stored) { keep(entry); } });
    return { offline: entries.some(function (entry) { return entry.stored; }) };
  }

  function sendFrom(entries, index, token, last) {
    if (index >= entries.length) { return Promise.resolve({ url: last }); }
    var entry = entries[index];
    return window.fetch(entry.url, { method: "POST", body: body(entry, token), credentials: "same-origin" })
      .then(function (response) {
        if (response.status >= 500 || response.status === 429) { return keepFrom(entries, index); }
        var reached = numberOf(response.url);
        if (response.ok && response.redirected && reached && reached <= entry.number) {
          /* Sent back to an earlier page: it must be saved first. A copy is kept (sent again
             later it is stored once), and the rest wait. */
          return { url: response.url };
        }
        if (entry.stored) { store.removeItem(entry.key); }
        if (response.ok && response.redirected) { return sendFrom(entries, index + 1, token, response.url); }
        return { refused: entry };
      }, function () { return keepFrom(entries, index); });
  }

  /* The server's own answer to a page it would not take, as a plain form post. */
  function postPlainly(entry, token) {
    var plain = document.createElement("form");
    plain.method = "post";
    plain.action = entry.url;
    plain.hidden = true;
    body(entry, token).forEach(function (value, name) {
      var input = document.createElement("input");
      input.type = "hidden";
      input.name = name;
      input.value = value;
      plain.appendChild(input);
    });
    document.body.appendChild(plain);
    HTMLFormElement.prototype.submit.call(plain);
  }

  function showNext() {
    var number = numberOf(form.action);
    var next = Array.prototype.filter.call(document.querySelectorAll("template.offline-page"),
      function (template) { return Number(template.getAttribute("data-number")) > number; })[0];
    if (!next) { return false; }
    var data = next.dataset;
    var questions = document.getElementById("page-questions");
    var worded = questions.firstElementChild;  /* <div lang>: texts in another language */
    if (worded && worded.tagName === "DIV" && worded.lang) { questions = worded; }
    questions.replaceChildren(next.content.cloneNode(true));
    form.action = data.action;
    window.history.replaceState(null, "", data.action);
    form.elements.namedItem("page_revision").value = data.revision;
    document.title = data.title;
    document.querySelectorAll(".error-summary").forEach(function (el) { el.remove(); });
    var heading = document.querySelector("main h1");
    heading.textContent = data.heading;
    var intro = document.querySelector("main .time-frame");
    if (data.intro && !intro) {
      intro = document.createElement("p");
      intro.className = "time-frame";
      if (heading.lang) { intro.lang = heading.lang; }
      heading.after(intro);
    }
    if (intro && data.intro) { intro.textContent = data.intro; } else if (intro) { intro.remove(); }
    var progress = document.getElementById("progress");
    progress.value = Number(data.number);
    progress.textContent = data.progress;
    document.querySelector('label[for="progress"]').textContent = data.progress;
    form.querySelector(".actions button[type=submit]").textContent = data.button;
    form.querySelectorAll(".actions a").forEach(function (a) { a.hidden = true; });
    swapped = true;
    window.scrollTo(0, 0);
    heading.setAttribute("tabindex", "-1");
    heading.focus();
    return true;
  }

  /* Send the stored copies, then `current` (the page being saved, if any), in page order. */
  function flush(current) {
    if (busy) { return; }
    var entries = stored().filter(function (entry) { return !current || entry.key !== current.key; });
    if (current) { entries.push(current); }
    if (!entries.length) { return; }
    entries.sort(function (a, b) { return a.number - b.number; });
    busy = true;
    var anyStored = entries.some(function (entry) { return entry.stored; });
    if (anyStored) { say(status.getAttribute("data-sending")); }
    var token = null;
    var sent = (anyStored ? freshToken() : Promise.resolve(formToken()))
      .then(function (fresh) {
        token = fresh;
        return sendFrom(entries, 0, token, null);
      }, function () { return keepFrom(entries, 0); });
    sent.then(function (result) {
      busy = false;
      if (result.offline) {
        if (current && current.stored) { showNext(); }
        say(status.getAttribute("data-saved"));
        /* A phone can be "online" while the server is out of reach: no `online` event comes. */
        window.clearTimeout(retry);
        retry = window.setTimeout(function () { flush(null); }, RETRY_MS);
      } else if (result.refused) {
        postPlainly(result.refused, token);
      } else if (!current && swapped) {
        /* Back online on a page shown from its copy: it is the page the server expects next. */
        var input = form.elements.namedItem("csrf_token");
        if (input && token) { input.value = token; }
        say(status.getAttribute("data-sent"));
      } else if (result.url && (current || beyond(result.url))) {
        window.location.assign(result.url);
      } else if (result.url) {
        say(status.getAttribute("data-sent"));  /* sent from a page still current: stay */
      }
    });
  }

  /* The later pages this one can lead to while offline, fetched now while the server is near. */
  function loadAhead() {
    var holder = document.getElementById("offline-pages");
    if (!holder || !holder.getAttribute("data-src")) { return; }
    window.fetch(holder.getAttribute("data-src"), { credentials: "same-origin", cache: "no-store" })
      .then(function (response) { return response.status === 200 ? response.text() : ""; })
      .then(function (html) {
        holder.innerHTML = html;
        holder.setAttribute("data-loaded", "");
      }, function () { /* offline already: this page is kept, and stays */ });
  }

  form.addEventListener("submit", function (event) {
    if (!("submitter" in event)) { return; }  /* an older browser: post as without JavaScript */
    if (event.submitter && event.submitter.name === "switch_language") { return; }
    event.preventDefault();
    flush(thisPage());
  });
  window.addEventListener("online", function () { flush(null); });
  flush(null);
  loadAhead();
}());
