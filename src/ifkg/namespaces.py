"""IRIs of the vocabularies ifkg uses, and the prefixes written into exports and queries."""

from __future__ import annotations

IFKG = "https://w3id.org/ifkg/def#"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
OWL = "http://www.w3.org/2002/07/owl#"
XSD = "http://www.w3.org/2001/XMLSchema#"
SKOS = "http://www.w3.org/2004/02/skos/core#"
PROV = "http://www.w3.org/ns/prov#"
OA = "http://www.w3.org/ns/oa#"
DCT = "http://purl.org/dc/terms/"
SCHEMA = "https://schema.org/"
ORG = "http://www.w3.org/ns/org#"
UNIT = "http://qudt.org/vocab/unit/"
FOAF = "http://xmlns.com/foaf/0.1/"
DCAT = "http://www.w3.org/ns/dcat#"
VOID = "http://rdfs.org/ns/void#"
SH = "http://www.w3.org/ns/shacl#"

EDGE_KINDS = ("funding", "collaboration", "governance", "place")

UNIT_IRIS = {
    "CNY": UNIT + "CCY_CNY",
    "PERCENT": UNIT + "PERCENT",
    "NUM": UNIT + "NUM",
    "UNITLESS": UNIT + "UNITLESS",
}


def data_prefixes(base: str) -> dict[str, str]:
    """Prefix → namespace for the project's own IRIs under ``base``."""
    return {
        "ent": base + "id/entity/",
        "ind": base + "id/indicator/",
        "src": base + "id/source/",
        "stmt": base + "id/statement/",
        "meas": base + "id/measurement/",
        "ev": base + "id/evidence/",
        "graph": base + "graph/",
    }


def prefixes(base: str) -> dict[str, str]:
    """Every prefix ifkg predeclares, in a stable order."""
    common = {
        "ifkg": IFKG,
        "rdf": RDF,
        "rdfs": RDFS,
        "owl": OWL,
        "xsd": XSD,
        "skos": SKOS,
        "prov": PROV,
        "oa": OA,
        "dct": DCT,
        "schema": SCHEMA,
        "org": ORG,
        "unit": UNIT,
        "foaf": FOAF,
        "dcat": DCAT,
        "void": VOID,
    }
    return {**common, **data_prefixes(base)}


def owned_prefixes(base: str) -> tuple[str, ...]:
    """IRI spaces whose nodes a source owns: the segment after the prefix is the source id."""
    return tuple(base + f"id/{kind}/" for kind in ("statement", "measurement", "evidence",
                                                    "source"))


def group_of(subject: str, owned: tuple[str, ...]) -> str:
    """The group of a non-ontology subject: ``source:<id>`` for a node a source owns, else the
    subject itself."""
    for prefix in owned:
        if subject.startswith(prefix):
            return "source:" + subject[len(prefix):].split("/", 1)[0]
    return subject
