/* Conditional questions on a survey page: the GOV.UK "conditionally revealing a related
   question" pattern. The server renders every question whose condition waits on an answer
   on this page inside <div data-show-if="CONDITION">, shown: without JavaScript nothing is
   hidden, and the server discards answers to questions whose condition is not met. Here each
   block is hidden (the hidden attribute: out of the tab order and the accessibility tree)
   until its condition holds, and re-checked on every change. The controlling inputs get
   aria-controls naming the block, as govuk-frontend does; the block follows them in the
   page, so keyboard and screen-reader users meet a revealed question next. */
(function () {
  "use strict";
  var form = document.getElementById("page-form");
  if (!form) { return; }
  var blocks = Array.prototype.slice.call(form.querySelectorAll("[data-show-if]"));
  if (!blocks.length) { return; }
  var conditions = blocks.map(function (block) { return JSON.parse(block.getAttribute("data-show-if")); });

  function isHidden(name) {
    var question = document.getElementById(name);
    var block = question && question.closest("[data-show-if]");
    return Boolean(block && block.hidden);
  }

  function value(name) {
    var field = form.elements.namedItem(name);
    if (!field || isHidden(name)) { return null; }
    var raw = field.value;
    if (raw === undefined || raw === null) { return null; }
    raw = String(raw).trim();
    if (raw === "" || raw === "na") { return null; }
    var number = Number(raw);
    return isNaN(number) ? null : number;
  }

  function holds(c) {
    if (c.op === "all") { return c.parts.every(holds); }
    if (c.op === "any") { return c.parts.some(holds); }
    if (c.op === "role") { return false; }  /* decided by the server, never left pending */
    var v = value(c.item);
    if (v === null) { return c.op === "not_equals"; }
    if (c.op === "equals" || c.op === "in") { return c.values.indexOf(v) >= 0; }
    if (c.op === "not_equals") { return c.values.indexOf(v) < 0; }
    if (c.min !== null && (v < c.min || (c.minx && v === c.min))) { return false; }
    if (c.max !== null && (v > c.max || (c.maxx && v === c.max))) { return false; }
    return true;
  }

  function items(c, found) {
    if (c.parts) { c.parts.forEach(function (part) { items(part, found); }); }
    else if (c.item) { found.push(c.item); }
    return found;
  }

  blocks.forEach(function (block, index) {
    items(conditions[index], []).forEach(function (name) {
      var question = document.getElementById(name);
      if (!question) { return; }
      question.querySelectorAll("input, textarea").forEach(function (input) {
        var controls = (input.getAttribute("aria-controls") || "").split(" ").filter(Boolean);
        if (controls.indexOf(block.id) < 0) { controls.push(block.id); }
        input.setAttribute("aria-controls", controls.join(" "));
      });
    });
  });

  function update() {
    /* In page order, so a question revealed by a revealed question follows its parent. */
    blocks.forEach(function (block, index) { block.hidden = !holds(conditions[index]); });
  }
  form.addEventListener("change", update);
  form.addEventListener("input", update);
  update();
}());
