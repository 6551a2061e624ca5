// The catalogue's search and audience filter, applied as the person types or chooses: cards that
// do not match are hidden, theme sections left empty are hidden, and the number of paths shown
// is announced (the status line is an aria-live region). Without JavaScript the form is sent and
// the server filters the same way.
(function () {
  "use strict";
  var form = document.querySelector(".catalogue-filter");
  var themes = document.querySelector(".catalogue-themes");
  var status = document.getElementById("catalogue-count");
  if (!form || !themes || !status) return;
  var search = form.querySelector("input[name=q]");
  var audience = form.querySelector("select[name=audience]");
  var submit = form.querySelector(".catalogue-filter-submit");
  // A page the server filtered lacks the other cards: there the form's button sends it again.
  var complete = themes.dataset.filtered !== "true";
  if (submit) submit.hidden = complete;
  var timer = null;

  function words(text) {
    return text.toLocaleLowerCase().split(/\s+/).filter(Boolean);
  }

  function announce(count) {
    var template = count === 0 ? status.dataset.none : count === 1 ? status.dataset.one : status.dataset.other;
    status.textContent = template.replace("{count}", String(count));
  }

  function apply() {
    var wanted = words(search.value);
    var group = audience.value;
    var shown = 0;
    themes.querySelectorAll("section.theme").forEach(function (section) {
      var inSection = 0;
      section.querySelectorAll(".path-card").forEach(function (card) {
        var text = card.dataset.search || card.textContent.toLocaleLowerCase();
        var groups = (card.dataset.audience || "").split(" ");
        var match = (!group || groups.indexOf(group) !== -1) &&
          wanted.every(function (word) { return text.indexOf(word) !== -1; });
        card.hidden = !match;
        if (match) inSection += 1;
      });
      section.hidden = inSection === 0;
      shown += inSection;
    });
    announce(shown);
  }

  if (!complete) return; // the server filtered this page: the form's button sends it again

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    apply();
  });
  search.addEventListener("input", function () {
    window.clearTimeout(timer);
    timer = window.setTimeout(apply, 250); // announce once the person pauses typing
  });
  audience.addEventListener("change", apply);
  // Values the browser restored (going back to the catalogue) filter at once.
  if (search.value.trim() || audience.value) apply();
})();
