"""The ontology (ontology/ifkg.ttl) is complete and documented, and the SHACL shapes
(ontology/shapes.ttl) accept tests/fixtures/shacl/valid.ttl and reject each violation fixture
for the reason its name gives.

A violation fixture is named ``<ShapeLocalName>-violation[-detail].ttl``, must break that
shape and no other, and says in an ``# expect:`` line which constraint components fail.
"""

from __future__ import annotations

import re
from pathlib import Path

import pyshacl
import pytest
from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCTERMS, OWL, RDF, RDFS, SH, SKOS

ROOT = Path(__file__).resolve().parents[1]
ONTOLOGY = ROOT / "ontology" / "ifkg.ttl"
SHAPES = ROOT / "ontology" / "shapes.ttl"
FIXTURES = ROOT / "tests" / "fixtures" / "shacl"

IFKG = Namespace("https://w3id.org/ifkg/def#")
XSD_DATE = URIRef("http://www.w3.org/2001/XMLSchema#date")
IFKGSH = Namespace("https://w3id.org/ifkg/shapes#")
ONTOLOGY_IRI = URIRef("https://w3id.org/ifkg/def")

# The build must validate with the same setting: see the comment at the top of shapes.ttl.
INFERENCE = "none"

CLASSES = """
    Organization GovernmentBody Commission Office CentralBankBranch PeoplesCongress Person Deputy
    Meeting Document Suggestion ReplyDocument PolicyDocument Fund GuidanceFund IndustryFund
    GuaranteeFund FiscalSpecialFund FinancialInstitution FinancingGuaranteeInstitution
    MunicipalGuaranteeInstitution DistrictGuaranteeInstitution Bank Insurer MicroLoanCompany
    InvestmentGroup Enterprise MedicalInstitution Alliance Incubator Place Park
    UniversitySciencePark Zone ServiceStation District FinancialProduct LoanProduct
    GuaranteeProduct BatchGuaranteeProduct IPPledgeGuaranteeProduct InsuranceProduct RelendingTool
    Programme SubsidyProgramme Sector EntityGroup Measurement Indicator Statement Evidence
    SourceText Basis
""".split()
EDGE_KINDS = ["fundingRelation", "collaborationRelation", "governanceRelation", "placeRelation"]
RELATIONS = """
    investsIn funds guarantees reGuarantees lendsTo insures subsidises supports provides launches
    cooperatesWith memberOf issues establishes guides implements manages partOf coversProduct
    repliesTo submits submittedAt deputyOf copiedTo targetsSector locatedIn serves
""".split()
OBJECT_PROPERTIES = ["about", "indicator", "unit", "evidence", "mentionedIn", "statedIn",
                     "memberClass"]
DATATYPE_PROPERTIES = """
    reportedAs qualifier asOf period ratePeriod comparedTo date sentence indicatorKind
    documentNumber disclosureStatus handlingResult sha256
""".split()
TOP_LEVEL_CLASSES = """
    GovernmentBody PeoplesCongress Person Meeting Document Fund FinancialInstitution
    InvestmentGroup Enterprise MedicalInstitution Alliance Incubator Place FinancialProduct
    Programme Sector EntityGroup
""".split()
VIS_SHAPES = {"dot", "box", "diamond", "triangle", "square", "star", "ellipse", "hexagon"}
COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")


@pytest.fixture(scope="module")
def ontology() -> Graph:
    return Graph().parse(ONTOLOGY, format="turtle")


@pytest.fixture(scope="module")
def shapes() -> Graph:
    return Graph().parse(SHAPES, format="turtle")


def ifkg_terms(g: Graph, kind: URIRef) -> list[URIRef]:
    return sorted(s for s in g.subjects(RDF.type, kind)
                  if isinstance(s, URIRef) and s.startswith(str(IFKG)))


def languages(g: Graph, term: URIRef, prop: URIRef) -> list[str | None]:
    return sorted((o.language or "") for o in g.objects(term, prop) if isinstance(o, Literal))


def super_properties(g: Graph, prop: URIRef) -> set[URIRef]:
    """Everything ``prop`` reaches by rdfs:subPropertyOf+ (``prop`` itself excluded)."""
    return set(g.transitive_objects(prop, RDFS.subPropertyOf)) - {prop}


# --- ontology ------------------------------------------------------------------------------------

def test_ontology_header(ontology: Graph) -> None:
    o = ONTOLOGY_IRI
    assert (o, RDF.type, OWL.Ontology) in ontology
    assert ontology.value(o, OWL.versionIRI) == URIRef("https://w3id.org/ifkg/def/0.1.0")
    assert str(ontology.value(o, OWL.versionInfo)) == "0.1.0"
    assert languages(ontology, o, DCTERMS.title) == ["en", "zh"]
    assert ontology.value(o, DCTERMS.license) == URIRef(
        "https://creativecommons.org/licenses/by/4.0/")
    assert ontology.value(o, DCTERMS.issued) == Literal("2026-11-27", datatype=XSD_DATE)
    description = " ".join(str(d) for d in ontology.objects(o, DCTERMS.description))
    for needle in ("verbatim", "interpretation", "schema:value", "oa:exact"):
        assert needle in description


@pytest.mark.parametrize("name", CLASSES)
def test_class_declared(ontology: Graph, name: str) -> None:
    assert (IFKG[name], RDF.type, OWL.Class) in ontology


@pytest.mark.parametrize("name", EDGE_KINDS + RELATIONS + OBJECT_PROPERTIES)
def test_object_property_declared(ontology: Graph, name: str) -> None:
    assert (IFKG[name], RDF.type, OWL.ObjectProperty) in ontology


@pytest.mark.parametrize("name", DATATYPE_PROPERTIES)
def test_datatype_property_declared(ontology: Graph, name: str) -> None:
    assert (IFKG[name], RDF.type, OWL.DatatypeProperty) in ontology


def test_every_term_documented(ontology: Graph) -> None:
    """Every ifkg class and property: labels zh+en (rdfs:label and skos:prefLabel), an English
    comment, rdfs:isDefinedBy; every object or datatype property also a domain and a range."""
    problems = []
    for kind in (OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty, OWL.AnnotationProperty,
                 OWL.NamedIndividual):
        for term in ifkg_terms(ontology, kind):
            for prop in (RDFS.label, SKOS.prefLabel):
                if languages(ontology, term, prop) != ["en", "zh"]:
                    problems.append(f"{term}: {prop} must be one @zh and one @en")
            if "en" not in languages(ontology, term, RDFS.comment):
                problems.append(f"{term}: no rdfs:comment @en")
            if ontology.value(term, RDFS.isDefinedBy) != ONTOLOGY_IRI:
                problems.append(f"{term}: no rdfs:isDefinedBy")
            if kind in (OWL.ObjectProperty, OWL.DatatypeProperty):
                for prop in (RDFS.domain, RDFS.range):
                    if ontology.value(term, prop) is None:
                        problems.append(f"{term}: no {prop}")
    assert problems == []


def test_no_undeclared_ifkg_terms(ontology: Graph) -> None:
    """Every ifkg IRI used in the ontology is declared there (catches typos)."""
    declared = {s for s in ontology.subjects(RDF.type, None) if isinstance(s, URIRef)}
    used = {n for t in ontology for n in t
            if isinstance(n, URIRef) and n.startswith(str(IFKG))}
    assert used - declared == set()


@pytest.mark.parametrize("name", RELATIONS)
def test_relation_has_an_edge_kind(ontology: Graph, name: str) -> None:
    assert super_properties(ontology, IFKG[name]) & {IFKG[k] for k in EDGE_KINDS}


def test_edge_kinds_are_stated_directly(ontology: Graph) -> None:
    """A one-step ``?p rdfs:subPropertyOf ifkg:fundingRelation`` finds every funding property."""
    for kind in EDGE_KINDS:
        direct = set(ontology.subjects(RDFS.subPropertyOf, IFKG[kind]))
        closure = {p for p in ifkg_terms(ontology, OWL.ObjectProperty)
                   if IFKG[kind] in super_properties(ontology, p)}
        assert closure == direct, kind


def test_only_relations_have_edge_kinds(ontology: Graph) -> None:
    kinds = {IFKG[k] for k in EDGE_KINDS}
    with_kind = {p for p in ifkg_terms(ontology, OWL.ObjectProperty)
                 if super_properties(ontology, p) & kinds}
    assert with_kind == {IFKG[r] for r in RELATIONS}


def test_launches_is_funding_and_collaboration(ontology: Graph) -> None:
    sup = super_properties(ontology, IFKG.launches)
    assert {IFKG.provides, IFKG.fundingRelation, IFKG.collaborationRelation} <= sup


def test_invests_in_is_funding_only(ontology: Graph) -> None:
    sup = super_properties(ontology, IFKG.investsIn)
    assert IFKG.fundingRelation in sup
    assert IFKG.collaborationRelation not in sup


def test_re_guarantees(ontology: Graph) -> None:
    assert (IFKG.reGuarantees, RDFS.subPropertyOf, IFKG.guarantees) in ontology
    assert (IFKG.reGuarantees, RDFS.subPropertyOf, IFKG.fundingRelation) in ontology


def test_edge_kind_colours(ontology: Graph) -> None:
    colours = {k: str(ontology.value(IFKG[k], IFKG.edgeKindColour)) for k in EDGE_KINDS}
    assert colours == {"fundingRelation": "#d62728", "collaborationRelation": "#1f77b4",
                       "governanceRelation": "#7f7f7f", "placeRelation": "#2ca02c"}


def test_display_hints(ontology: Graph) -> None:
    seen = set()
    for name in TOP_LEVEL_CLASSES:
        colour = ontology.value(IFKG[name], IFKG.displayColour)
        shape = ontology.value(IFKG[name], IFKG.displayShape)
        assert colour is not None and COLOUR.match(str(colour)), name
        assert str(shape) in VIS_SHAPES, name
        seen.add((str(colour).lower(), str(shape)))
    assert len(seen) == len(TOP_LEVEL_CLASSES), "two top-level classes look the same"


def test_basis(ontology: Graph) -> None:
    assert (IFKG.basis, RDF.type, OWL.AnnotationProperty) in ontology
    for individual in (IFKG.Verbatim, IFKG.Interpretation):
        assert (individual, RDF.type, IFKG.Basis) in ontology
    for name in ("reportedAs", "sentence"):
        assert ontology.value(IFKG[name], IFKG.basis) == IFKG.Verbatim, name
    for name in ("asOf", "period", "ratePeriod", "qualifier", "unit", "indicator", "about"):
        assert ontology.value(IFKG[name], IFKG.basis) == IFKG.Interpretation, name


def test_qualifier_values_documented_as_in_shapes(ontology: Graph, shapes: Graph) -> None:
    """The comment of ifkg:qualifier lists exactly the values the shapes accept."""
    lists = [shapes.value(ps, SH["in"]) for ps in shapes.subjects(SH.path, IFKG.qualifier)]
    allowed = {str(v) for head in lists if head is not None for v in shapes.items(head)}
    assert allowed == {"exact", "more-than", "about", "at-most", "below"}
    comment = str(ontology.value(IFKG.qualifier, RDFS.comment))
    for value in allowed:
        assert f'"{value}"' in comment


# --- shapes --------------------------------------------------------------------------------------

def validate(fixture: Path, ontology: Graph, shapes: Graph,
             inference: str = INFERENCE) -> tuple[bool, Graph, str]:
    data = Graph().parse(fixture, format="turtle")
    data += ontology
    conforms, report, text = pyshacl.validate(data, shacl_graph=shapes, inference=inference,
                                              advanced=True)
    return conforms, report, text


def top_shape(shapes: Graph, shape: URIRef | BNode) -> URIRef | BNode:
    """The named node shape a result's sh:sourceShape belongs to (itself or its parent)."""
    while True:
        parent = shapes.value(predicate=SH.property, object=shape)
        if parent is None:
            return shape
        shape = parent


def failing_shapes(report: Graph, shapes: Graph) -> set[str]:
    names = set()
    for result in report.subjects(RDF.type, SH.ValidationResult):
        top = top_shape(shapes, report.value(result, SH.sourceShape))
        names.add(str(top).removeprefix(str(IFKGSH)))
    return names


def failing_components(report: Graph) -> set[str]:
    return {"sh:" + str(report.value(r, SH.sourceConstraintComponent)).removeprefix(str(SH))
            for r in report.subjects(RDF.type, SH.ValidationResult)}


def expected_components(fixture: Path) -> set[str]:
    for line in fixture.read_text(encoding="utf-8").splitlines():
        if line.startswith("# expect:"):
            return set(line.removeprefix("# expect:").split())
    raise AssertionError(f"{fixture.name} has no '# expect:' line")


def targeted_shapes(shapes: Graph) -> set[str]:
    targets = (SH.targetClass, SH.targetNode, SH.targetSubjectsOf, SH.targetObjectsOf)
    return {str(s).removeprefix(str(IFKGSH)) for t in targets for s in shapes.subjects(t, None)}


VIOLATIONS = sorted(FIXTURES.glob("*-violation*.ttl"))


def test_shapes_have_messages(shapes: Graph) -> None:
    for shape in shapes.subjects(RDF.type, SH.NodeShape):
        if shapes.value(shape, SH.targetClass) or shapes.value(shape, SH.targetSubjectsOf):
            assert shapes.value(shape, SH.message) is not None, shape
    for prop_shape in shapes.objects(None, SH.property):
        parent = top_shape(shapes, prop_shape)
        if shapes.value(parent, SH.targetClass) or shapes.value(parent, SH.targetSubjectsOf):
            assert shapes.value(prop_shape, SH.message) is not None, prop_shape


def test_every_shape_has_a_violation_fixture(shapes: Graph) -> None:
    covered = {f.name.split("-violation")[0] for f in VIOLATIONS}
    assert targeted_shapes(shapes) == covered


def test_shapes_graph_is_valid_shacl(shapes: Graph) -> None:
    conforms, _, text = pyshacl.validate(Graph(), shacl_graph=shapes, meta_shacl=True)
    assert conforms, text


@pytest.mark.parametrize("inference", [INFERENCE, "rdfs"])
def test_valid_fixture_conforms(ontology: Graph, shapes: Graph, inference: str) -> None:
    """valid.ttl conforms; also under RDFS inference, so no shape depends on its absence."""
    conforms, _, text = validate(FIXTURES / "valid.ttl", ontology, shapes, inference)
    assert conforms, text


@pytest.mark.parametrize("fixture", VIOLATIONS, ids=[f.stem for f in VIOLATIONS])
def test_violation_fixture_breaks_its_shape_only(ontology: Graph, shapes: Graph,
                                                 fixture: Path) -> None:
    expected = fixture.name.split("-violation")[0]
    conforms, report, text = validate(fixture, ontology, shapes)
    assert not conforms
    assert failing_shapes(report, shapes) == {expected}, text
    assert failing_components(report) == expected_components(fixture), text
