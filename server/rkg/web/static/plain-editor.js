// The plain query form, when YASGUI is not installed: "Load" puts the chosen example into the text area.
// A file of its own, not inline: the Content-Security-Policy lets scripts come from this server only.
(function () {
  const examples = JSON.parse(document.getElementById("examples-data").textContent);
  document.getElementById("load-example").addEventListener("click", () => {
    document.getElementById("query").value = examples[document.getElementById("example").value].query;
  });
})();
