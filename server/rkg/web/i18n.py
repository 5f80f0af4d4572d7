"""The interface in French and English: which language a request gets, and the words of the pages.

The language comes from ``?lang=`` (the switch on every page, remembered in a cookie), else the cookie,
else ``Accept-Language``; French when nothing matches (the language of the source). Labels from the data
are picked in that language, falling back to the other one: most entities only have a French label.
"""

from __future__ import annotations

from collections.abc import Mapping

from flask import Request

LANGS = ("fr", "en")
DEFAULT = "fr"
COOKIE = "rkg_lang"

WORDS: dict[str, dict[str, str]] = {
    "fr": {
        "title": "Graphe de connaissances des référentiels de compétences",
        "home": "Accueil", "editor": "Éditeur SPARQL", "questions": "Questions", "coverage": "Couverture",
        "validation": "Validation", "switch": "English", "graph_version": "Version du graphe",
        "triples": "triplets", "graphs": "graphes nommés", "programmes": "Programmes",
        "programme": "Programme", "counts": "Effectifs", "links": "Liens",
        "home_intro": "Ce service contient les référentiels ci-dessous, interrogeables en SPARQL, par des questions nommées et par ces pages.",
        "for_machines": "Pour les programmes", "service_description": "Description du service (SPARQL 1.1)",
        "void": "Description du jeu de données (VoID)", "openapi": "API des questions nommées (OpenAPI)",
        "editor_intro": "Écrivez une requête SPARQL 1.1 ; le graphe par défaut est l'union de tous les graphes nommés.",
        "examples": "Exemples (questions nommées)", "load_example": "Charger",
        "editor_missing": "L'éditeur YASGUI n'est pas installé sur ce serveur (lancer « npm ci » à la racine du projet) : formulaire simple.",
        "run": "Exécuter", "results_format": "Format des résultats",
        "questions_intro": "Chaque question est un fichier .rq de queries/ ; ses paramètres sont vérifiés avant l'exécution.",
        "parameters": "Paramètres", "columns": "Colonnes", "table": "Tableau", "none": "aucun",
        "coverage_intro_master": "Chaque case compte les blocs qui relient la ligne et l'unité ; cliquer une case montre les preuves.",
        "coverage_intro_but": "La matrice croisée du référentiel de formation : chaque case compte les apprentissages critiques de la ligne que la SAÉ ou la ressource mobilise (avec le coefficient de la compétence quand il est donné) ; cliquer une case montre les preuves.",
        "rows_block": "Blocs", "rows_competency": "Compétences", "rows_dimension": "Dimensions", "rows_level": "Niveaux", "rows_ac": "AC",
        "cols_master": "UE", "cols_but": "SAÉ et ressources",
        "col_ue": "UE", "col_ecue": "ECUE", "col_sae": "SAÉ", "col_resource": "Ressource",
        "no_columns": "Aucune unité d'enseignement (UE, ECUE, SAÉ ou ressource) n'est chargée pour ce programme : toutes les lignes sont vides. Pour un BUT, importer son référentiel de formation (rkg import orebut).",
        "coefficient": "coefficient", "evidence_master": "Bloc", "evidence_but": "AC",
        "download_csv": "Télécharger en CSV", "evidence": "Preuves", "unit": "Unité", "block": "Bloc",
        "no_evidence_master": "Aucun bloc ne relie cette ligne et cette unité.",
        "no_evidence_but": "La SAÉ ou la ressource mobilise la compétence sans nommer aucun de ses apprentissages critiques.",
        "structure": "Structure", "periods": "Périodes", "parcours": "Parcours", "niveaux": "Niveaux",
        "saes": "SAÉ", "resources": "Ressources",
        "statement": "Énoncé", "source_graph": "Graphe source",
        "validation_intro": "Rapport SHACL et requêtes de contrôle qualité (queries/qc) sur le graphe servi.",
        "violation": "Violations", "warning": "Avertissements", "info": "Informations", "no_findings": "Aucun constat.",
        "entity": "Entité", "labels": "Libellés", "codes": "Codes", "types": "Types", "out_links": "Propriétés",
        "in_links": "Liens entrants", "provenance": "Provenance", "interpretations": "Interprétations",
        "reason": "Raison", "derived_from": "Tiré de", "other_formats": "Autres formats",
        "not_found": "Rien n'est connu de cette IRI dans le graphe.", "value": "Valeur", "property": "Propriété",
        "subject": "Sujet", "graph": "Graphe", "file": "Fichier", "external": "IRI externe",
        "bad_request": "Requête incorrecte", "results": "Résultats", "rows": "lignes",
        "matrix": "Matrice", "total": "Total", "uncovered": "aucune unité",
        "anonymous": "Liens depuis des nœuds anonymes (annotations d'axiomes, restrictions, listes)", "terms": "Termes de l'ontologie", "derived_by_build": "calculé par rkg build (clés de recherche, VoID)", "term": "Terme", "definition": "Définition",
        "diff": "Différences entre versions", "diff_from": "De", "diff_to": "à", "diff_compare": "Comparer",
        "diff_old": "Avant", "diff_new": "Après", "download_json": "Télécharger en JSON",
        "download_markdown": "Télécharger les notes de version (Markdown)",
        "diff_intro": "Entités ajoutées, supprimées et modifiées d'une version du référentiel à l'autre, appariées par IRI (un code renommé l'est par prov:wasRevisionOf dans la nouvelle version).",
    },
    "en": {
        "title": "Knowledge graph of competency frameworks",
        "home": "Home", "editor": "SPARQL editor", "questions": "Questions", "coverage": "Coverage",
        "validation": "Validation", "switch": "Français", "graph_version": "Graph version",
        "triples": "triples", "graphs": "named graphs", "programmes": "Programmes",
        "programme": "Programme", "counts": "Counts", "links": "Links",
        "home_intro": "This service holds the frameworks below, open to SPARQL, named questions and these pages.",
        "for_machines": "For programs", "service_description": "Service description (SPARQL 1.1)",
        "void": "Dataset description (VoID)", "openapi": "Named-question API (OpenAPI)",
        "editor_intro": "Write a SPARQL 1.1 query; the default graph is the union of all named graphs.",
        "examples": "Examples (named questions)", "load_example": "Load",
        "editor_missing": "The YASGUI editor is not installed on this server (run \"npm ci\" in the project folder): plain form.",
        "run": "Run", "results_format": "Results format",
        "questions_intro": "Each question is a .rq file of queries/; its parameters are checked before it runs.",
        "parameters": "Parameters", "columns": "Columns", "table": "Table", "none": "none",
        "coverage_intro_master": "Each cell counts the blocks that link the row and the unit; click a cell for the evidence.",
        "coverage_intro_but": "The training référentiel's cross matrix (« matrice croisée »): each cell counts the row's critical learnings that the SAÉ or ressource mobilises (with the competency's coefficient when one is given); click a cell for the evidence.",
        "rows_block": "Blocks", "rows_competency": "Competencies", "rows_dimension": "Dimensions", "rows_level": "Levels", "rows_ac": "ACs",
        "cols_master": "UEs", "cols_but": "SAÉ and ressources",
        "col_ue": "UE", "col_ecue": "ECUE", "col_sae": "SAÉ", "col_resource": "Ressource",
        "no_columns": "No teaching unit (UE, ECUE, SAÉ or ressource) is loaded for this programme: every row is empty. For a BUT, import its référentiel de formation (rkg import orebut).",
        "coefficient": "coefficient", "evidence_master": "Block", "evidence_but": "AC",
        "download_csv": "Download as CSV", "evidence": "Evidence", "unit": "Unit", "block": "Block",
        "no_evidence_master": "No block links this row and this unit.",
        "no_evidence_but": "The SAÉ or ressource mobilises the competency without naming any of its critical learnings.",
        "structure": "Structure", "periods": "Periods", "parcours": "Parcours", "niveaux": "Levels (niveaux)",
        "saes": "SAÉ", "resources": "Ressources",
        "statement": "Statement", "source_graph": "Source graph",
        "validation_intro": "SHACL report and quality-control queries (queries/qc) on the served graph.",
        "violation": "Violations", "warning": "Warnings", "info": "Information", "no_findings": "No findings.",
        "entity": "Entity", "labels": "Labels", "codes": "Codes", "types": "Types", "out_links": "Properties",
        "in_links": "Links in", "provenance": "Provenance", "interpretations": "Interpretations",
        "reason": "Reason", "derived_from": "Derived from", "other_formats": "Other formats",
        "not_found": "Nothing is known about this IRI in the graph.", "value": "Value", "property": "Property",
        "subject": "Subject", "graph": "Graph", "file": "File", "external": "External IRI",
        "bad_request": "Bad request", "results": "Results", "rows": "rows",
        "matrix": "Matrix", "total": "Total", "uncovered": "no unit",
        "anonymous": "Links from anonymous nodes (axiom annotations, restrictions, lists)", "terms": "Terms of the ontology", "derived_by_build": "computed by rkg build (search keys, VoID)", "term": "Term", "definition": "Definition",
        "diff": "Differences between versions", "diff_from": "From", "diff_to": "to", "diff_compare": "Compare",
        "diff_old": "Before", "diff_new": "After", "download_json": "Download as JSON",
        "download_markdown": "Download the release notes (Markdown)",
        "diff_intro": "Entities added, removed and changed from one version of the référentiel to the other, matched by IRI (a renamed code by prov:wasRevisionOf in the new version).",
    },
}


def choose(request: Request) -> str:
    asked = request.args.get("lang")
    if asked in LANGS:
        return asked
    remembered = request.cookies.get(COOKIE)
    if remembered in LANGS:
        return remembered
    return request.accept_languages.best_match(LANGS, default=DEFAULT) or DEFAULT


def pick(texts: Mapping[str, str], lang: str) -> str:
    """The text in ``lang``, else in the other interface language, else untagged, else any."""
    for key in (lang, *LANGS, ""):
        if texts.get(key):
            return texts[key]
    return next(iter(texts.values()), "")
