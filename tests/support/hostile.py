"""Hostile spellings of federation (SERVICE, LOAD), shared by the guard's unit tests and the attack suite.

``{host}`` stands for the host and port of the endpoint a spelling would contact: the unit tests use a
placeholder, the attack tests a listener on loopback that counts the connections it gets."""

from __future__ import annotations

# Spellings found by the attack of issue 9 and the W3C grammar's variants: the guard decides from a parse,
# so every one is refused before execution (a lexer read ``SERVICE:sparql`` and ``true.SERVICE`` as names).
_QUERIES = {
    "glued-prefixed-name": "PREFIX : <http://{host}/> SELECT * WHERE { SERVICE:sparql { ?s ?p ?o } }",
    "glued-lower-case": "prefix : <http://{host}/> select * where { service:sparql { ?s ?p ?o } }",
    "glued-named-prefix": "PREFIX x: <http://{host}/> SELECT * WHERE { SERVICE x:sparql {} }",
    "glued-iri": "SELECT * WHERE { ?s ?p ?o . SERVICE<http://{host}/sparql>{ ?s ?p ?o } }",
    "after-boolean-dot": "SELECT * WHERE { ?s ?p true.SERVICE <http://{host}/sparql> { ?s ?p ?o } }",
    "after-filter": "PREFIX : <http://{host}/> SELECT * WHERE { FILTER(true) SERVICE:sparql { } }",
    "relative-to-base": "BASE <http://{host}/> SELECT * WHERE { SERVICE <sparql> { } }",
    "mixed-case-silent": "SELECT * WHERE { SeRvIcE SILENT <http://{host}/sparql> { } }",
    "unicode-escape": "SELECT * WHERE { \\u0053ERVICE <http://{host}/sparql> { } }",
    "comment-between": "SELECT * WHERE { SERVICE # x\n <http://{host}/sparql> { } }",
    "in-exists": "ASK { FILTER EXISTS { SERVICE <http://{host}/sparql> { } } }",
    "in-minus": "SELECT * WHERE { ?s ?p ?o MINUS { SERVICE <http://{host}/sparql> { ?s ?p ?o } } }",
    "in-subquery-union": "SELECT * WHERE { {} UNION { SELECT * WHERE { SERVICE <http://{host}/> {} } } }",
    "construct-where": "CONSTRUCT { ?s ?p ?o } WHERE { SERVICE <http://{host}/> { ?s ?p ?o } }",
    "describe": "DESCRIBE ?s WHERE { SERVICE <http://{host}/> { ?s ?p ?o } }",
    "unparseable": "SELECT * WHERE { SERVICE <http://{host}/> { ?s ?p ?o } ",
}
_UPDATES = {
    "load-glued": "PREFIX : <http://{host}/> LOAD:data.nt",
    "load-glued-iri": "load<http://{host}/x>",
    "load-after-insert": "PREFIX : <http://{host}/> INSERT DATA { GRAPH:g { :a :b :c } } ; LOAD:d INTO GRAPH :g",
    "load-relative": "BASE <http://{host}/> LOAD <data.nt>",
    "service-in-where": "PREFIX : <http://{host}/> INSERT { GRAPH :g { ?s ?p ?o } } WHERE { SERVICE:s { ?s ?p ?o } }",
    "service-with-using": "INSERT { ?s ?p ?o } USING <urn:g> WHERE { SERVICE <http://{host}/> { ?s ?p ?o } }",
}


def spelled(table: dict[str, str], host: str) -> dict[str, str]:
    return {name: text.replace("{host}", host) for name, text in table.items()}


HOSTILE_QUERIES = spelled(_QUERIES, "127.0.0.1:18999")
HOSTILE_UPDATES = spelled(_UPDATES, "127.0.0.1:18999")
