// Filters the deep-linking picker as the teacher types; without JavaScript every item shows.
(function () {
  var input = document.getElementById("picker-search");
  if (!input) { return; }
  input.addEventListener("input", function () {
    var needle = input.value.toLowerCase();
    document.querySelectorAll(".picker li").forEach(function (item) {
      item.hidden = needle !== "" && item.getAttribute("data-title").indexOf(needle) === -1;
    });
  });
})();
