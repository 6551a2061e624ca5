// A table's scrolling wrapper (.table-scroll) that really scrolls, on a phone for example, must
// be reachable by keyboard (WCAG 2.1.1): it gets tabindex, the region role and the name of its
// table's caption, unless its template already gave them.
(function () {
  "use strict";
  function label(wrapper) {
    var caption = wrapper.querySelector("caption");
    return caption ? caption.textContent.trim() : "";
  }
  function update() {
    document.querySelectorAll(".table-scroll").forEach(function (wrapper) {
      if (wrapper.hasAttribute("data-layout-keyboard") || !wrapper.hasAttribute("tabindex")) {
        var scrolls = wrapper.scrollWidth > wrapper.clientWidth + 1;
        var name = label(wrapper);
        if (scrolls && name) {
          wrapper.setAttribute("data-layout-keyboard", "");
          wrapper.setAttribute("tabindex", "0");
          wrapper.setAttribute("role", "region");
          wrapper.setAttribute("aria-label", name);
        } else if (wrapper.hasAttribute("data-layout-keyboard")) {
          ["data-layout-keyboard", "tabindex", "role", "aria-label"].forEach(function (attribute) {
            wrapper.removeAttribute(attribute);
          });
        }
      }
    });
  }
  update();
  var timer = null;
  window.addEventListener("resize", function () {
    window.clearTimeout(timer);
    timer = window.setTimeout(update, 150);
  });
})();
