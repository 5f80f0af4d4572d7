// The SPARQL editor: YASGUI (installed with npm, served from this server) on this endpoint, offline.
// Class and property autocompletion would ask an online vocabulary service: only the bundled prefix
// list and the query's own variables are offered.
(function () {
  const endpoint = location.origin + "/sparql";
  const examples = JSON.parse(document.getElementById("examples-data").textContent);
  const start = JSON.parse(document.getElementById("start-query").textContent);
  const yasgui = new Yasgui(document.getElementById("yasgui"), {
    requestConfig: { endpoint: endpoint, method: "POST" },
    copyEndpointOnNewTab: false,
    endpointCatalogueOptions: { getData: () => [{ endpoint: endpoint }] },
    persistenceId: "rkg-yasgui",
    yasqe: { value: start, autocompleters: ["prefixes", "variables"] },
    yasr: { prefixes: JSON.parse(document.getElementById("prefixes").textContent) },
  });
  const tab = yasgui.getTab();
  if (tab.getEndpoint() !== endpoint) tab.setEndpoint(endpoint);
  if (!tab.getQuery().trim()) tab.setQuery(start);
  document.getElementById("load-example").addEventListener("click", () => {
    const current = yasgui.getTab();
    current.setQuery(examples[document.getElementById("example").value].query);
  });
  window.rkgYasgui = yasgui;
})();
