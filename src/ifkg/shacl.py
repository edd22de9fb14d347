"""Check the compiled dataset against the SHACL shapes of ``ontology/shapes.ttl`` with pyshacl."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox

from .errors import IfkgError, Problem

# The shapes rely on rdfs:subClassOf from the ontology for class targets; see shapes.ttl.
INFERENCE = "rdfs"
MAX_REPORTED = 20


def to_rdflib(triples: list[ox.Triple]):  # -> rdflib.Graph
    """Copy triples into an rdflib graph through N-Triples (fast and exact)."""
    import rdflib

    g = rdflib.Graph()
    g.parse(data=ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES), format="nt")
    return g


def validate(triples: list[ox.Triple], shapes_file: Path) -> list[Problem]:
    """Return one problem per SHACL result (focus node, path and message)."""
    import pyshacl
    import rdflib
    from rdflib.namespace import SH

    try:
        shapes = rdflib.Graph().parse(shapes_file, format="turtle")
    except Exception as exc:  # rdflib raises several parser error types
        raise IfkgError(f"invalid SHACL shapes: {exc}", shapes_file) from None
    data = to_rdflib(triples)
    conforms, report, _ = pyshacl.validate(
        data, shacl_graph=shapes, inference=INFERENCE, advanced=True, allow_warnings=True
    )
    if conforms:
        return []
    problems = []
    for result in sorted(report.subjects(rdflib.RDF.type, SH.ValidationResult), key=str):
        focus = report.value(result, SH.focusNode)
        path = report.value(result, SH.resultPath)
        message = report.value(result, SH.resultMessage)
        severity = report.value(result, SH.resultSeverity)
        text = f"SHACL: {focus}"
        if path is not None:
            text += f" {path}"
        text += f": {message}"
        level = "warning" if severity in (SH.Warning, SH.Info) else "error"
        problems.append(Problem(text, shapes_file, None, None, level))
    return problems
