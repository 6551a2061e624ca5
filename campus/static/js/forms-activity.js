// Activity forms on module pages (templates/paths/kinds/_form_parts.html):
// - a refused form's error summary takes the focus, so keyboard and screen reader users start there;
// - a text area with data-forms-minimum keeps its character count (an aria-live="polite" line) up to
//   date while the person types. The count is the server's: trimmed, a line break is one character.
(function () {
  "use strict";

  function focusSummary() {
    var summary = document.querySelector("[data-forms-focus]");
    if (summary) {
      summary.focus();
    }
  }

  function countOf(text) {
    return Array.from(text.replace(/\r\n/g, "\n").trim()).length;
  }

  function keepCount(area) {
    var minimum = parseInt(area.getAttribute("data-forms-minimum"), 10);
    var line = document.getElementById(area.getAttribute("data-forms-count"));
    if (!line || isNaN(minimum)) {
      return;
    }
    var timer = null;
    function update() {
      var count = countOf(area.value);
      var enough = count >= minimum;
      var template = line.getAttribute(enough ? "data-forms-enough" : "data-forms-short");
      var text = template.replace("{count}", String(count)).replace("{minimum}", String(minimum));
      if (line.textContent !== text) {
        line.textContent = text;
      }
      line.classList.toggle("forms-count-enough", enough);
    }
    // Announced once the typing pauses, not at every key.
    area.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(update, 400);
    });
  }

  function start() {
    focusSummary();
    document.querySelectorAll("textarea[data-forms-minimum]").forEach(keepCount);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
