"""Facts of the reply 沪科建复〔2025〕27号 as the built graph states them, with their evidence."""

from __future__ import annotations

from decimal import Decimal

import rdflib
from rdflib.compare import isomorphic

from conftest import ROOT, sparql_values
from ifkg.shacl import validate

TEXT = (ROOT / "graph/sources/shstc-reply-2025-27/text.txt").read_text(encoding="utf-8")


def _figures(store, entity: str, indicator: str) -> list[tuple]:
    return sparql_values(store, f"""
        SELECT ?value ?unit ?asOf ?period ?reported ?qualifier WHERE {{
          ?m ifkg:about ent:{entity} ; ifkg:indicator ind:{indicator} ; schema:value ?value ;
             ifkg:unit ?unit ; ifkg:reportedAs ?reported ; ifkg:qualifier ?qualifier .
          OPTIONAL {{ ?m ifkg:asOf ?asOf }} OPTIONAL {{ ?m ifkg:period ?period }} }}""")


def test_municipal_guarantee_fund_balance_and_leverage_at_end_2024(store):
    (value, unit, as_of, _, reported, qualifier), = _figures(
        store, "shanghai-financing-guarantee-fund", "outstanding-guarantee-balance")
    assert Decimal(value) == Decimal("99450000000")
    assert (unit, as_of, qualifier) == ("http://qudt.org/vocab/unit/CCY_CNY", "2024-12-31", "exact")
    assert reported.replace(" ", "") == "994.5亿元"
    rows = sparql_values(store, """SELECT ?value ?unit ?asOf WHERE {
        ?m ifkg:about ent:shanghai-financing-guarantee-fund ; schema:value ?value ;
           ifkg:unit ?unit ; ifkg:asOf ?asOf . FILTER(?value = 4.71) }""")
    assert rows == [("4.71", "http://qudt.org/vocab/unit/UNITLESS", "2024-12-31")]


def test_linchuangbao_launched_jointly_by_three(store):
    rows = sparql_values(store, "SELECT ?who WHERE { ?who ifkg:launches ent:linchuangbao }")
    assert {r[0].rsplit("/", 1)[1] for r in rows} == {
        "shanghai-financing-guarantee-fund", "fengxian-guarantee", "lingang-guarantee"}


def test_stic_group_took_stakes_in_eight_district_guarantee_institutions(store):
    rows = sparql_values(store, """SELECT ?g ?n WHERE {
        ent:shanghai-stic-group ifkg:investsIn ?g . ?g a ifkg:EntityGroup ;
        ifkg:memberClass ifkg:DistrictGuaranteeInstitution .
        ?m ifkg:about ?g ; ifkg:indicator ind:member-count ; schema:value ?n }""")
    assert [(g.rsplit("/", 1)[1], Decimal(n)) for g, n in rows] == [
        ("eight-district-guarantee-institutions", Decimal(8))]


def test_single_borrower_cap_rose_from_20_to_30_million(store):
    rows = sparql_values(store, """SELECT ?before ?after ?q1 ?q2 WHERE {
        ?a prov:wasRevisionOf ?b ; schema:value ?after ; ifkg:reportedAs ?ra ; ifkg:qualifier ?q2 .
        ?b schema:value ?before ; ifkg:qualifier ?q1 .
        FILTER(CONTAINS(STR(?ra), "3000")) }""")
    assert [(Decimal(b), Decimal(a)) for b, a, *_ in rows] == [(Decimal(20_000_000), Decimal(30_000_000))]


def test_two_funds_raised_from_2_to_5_yi_are_two_pairs(store):
    rows = sparql_values(store, """SELECT ?e ?before ?after WHERE {
        ?a prov:wasRevisionOf ?b ; schema:value ?after ; ifkg:about ?e . ?b schema:value ?before .
        FILTER(?before = 200000000 && ?after = 500000000) }""")
    assert len({r[0] for r in rows}) == 2


def test_tech_guarantee_balance_growth_and_share(store):
    rows = sparql_values(store, """SELECT ?reported ?value ?unit WHERE {
        ?m ifkg:reportedAs ?reported ; schema:value ?value ; ifkg:unit ?unit ;
           ifkg:asOf "2024-12-31"^^xsd:date .
        FILTER(?value IN (12814000000, 27.35, 11)) } ORDER BY ?value""")
    assert [Decimal(v) for _, v, _ in rows] == [Decimal(11), Decimal("27.35"),
                                                Decimal(12814000000)]


def test_annual_fee_rate_and_qualifiers(store):
    rows = sparql_values(store, """SELECT ?value ?rate WHERE {
        ?m ifkg:about ent:shanghai-financing-guarantee-fund ; ifkg:ratePeriod ?rate ;
           schema:value ?value }""")
    assert rows == [("0.5", "P1Y")]
    qualifiers = dict(sparql_values(store, """SELECT ?r ?q WHERE {
        ?m ifkg:reportedAs ?r ; ifkg:qualifier ?q }"""))
    norm = {k.replace(" ", ""): v for k, v in qualifiers.items()}
    assert norm["6500余户"] == "more-than"
    assert norm["1%以下"] == "below"
    assert norm["超500亿元"] == "more-than"
    assert norm["994.5亿元"] == "exact"


def test_guarantee_fund_and_guarantee_centre_are_two_entities(store):
    rows = sparql_values(store, """SELECT ?e WHERE { ?e skos:prefLabel ?l .
        FILTER(?l IN ("市担保基金"@zh, "市融资担保中心"@zh)) }""")
    assert len({r[0] for r in rows}) == 2


def test_merged_names_are_aliases_of_one_entity(store):
    for eid, alias in [("fengxian-guarantee", "上海奉贤融资担保有限公司"),
                       ("lingang-guarantee", "上海临港新片区融资担保有限公司")]:
        rows = sparql_values(store, f"SELECT ?a WHERE {{ ent:{eid} skos:altLabel ?a }}")
        assert alias in {r[0] for r in rows}
        # both spellings are quoted as evidence for the same entity
        exacts = sparql_values(store, f"""SELECT ?x WHERE {{ ent:{eid} ifkg:evidence ?ev .
            ?ev oa:hasSelector ?s . ?s oa:exact ?x }}""")
        assert any(alias in x[0] for x in exacts)


def test_every_quote_is_where_the_build_says(store):
    rows = sparql_values(store, """SELECT ?ev ?start ?end ?exact WHERE {
        ?ev a ifkg:Evidence ; oa:hasSelector ?p, ?q . ?p oa:start ?start ; oa:end ?end .
        ?q oa:exact ?exact }""")
    assert len(rows) > 400
    for ev, start, end, exact in rows:
        assert TEXT[int(start):int(end)] == exact, ev


def test_every_entity_edge_and_figure_has_evidence(store):
    missing = sparql_values(store, """SELECT ?x WHERE {
        { ?x a ifkg:Measurement } UNION { ?x a ifkg:Statement }
        UNION { ?x skos:prefLabel ?l FILTER(STRSTARTS(STR(?x), STR(ent:))) }
        FILTER NOT EXISTS { ?x ifkg:evidence ?ev } }""")
    assert missing == []
    unstated = sparql_values(store, """SELECT ?s ?p ?o WHERE { GRAPH graph:facts { ?s ?p ?o }
        ?p rdfs:subPropertyOf+ ?kind . FILTER(?kind IN (ifkg:fundingRelation,
          ifkg:collaborationRelation, ifkg:governanceRelation, ifkg:placeRelation))
        FILTER NOT EXISTS { ?st rdf:subject ?s ; rdf:predicate ?p ; rdf:object ?o } }""")
    assert unstated == []


def test_whole_reply_is_covered(built):
    c = built.corpus
    src = c.sources["shstc-reply-2025-27"]
    assert len(c.entities) >= 90
    assert len(src.relations) >= 80
    assert len(src.measurements) >= 50
    # every figure of the text's main body with 亿元 appears as a measurement
    import re
    body = TEXT[: TEXT.index("## 二、下一步工作打算")]
    amounts = {m.replace(" ", "") for m in re.findall(r"\d+(?:\.\d+)? ?亿元?", body)}
    reported = {m.reported.replace(" ", "") for m in src.measurements}
    missing = {a for a in amounts if not any(r.endswith(a) and not r[:-len(a)][-1:].isdigit()
                                             for r in reported)}
    assert missing <= {"10亿元"}  # "三个 10 亿元" names a programme; see its note


def test_data_conforms_to_the_shacl_shapes(built, project):
    assert validate(built.compiled.triples(), project.shapes_file) == []


def test_real_exports_parse_back_isomorphic(built, tmp_path_factory):
    nt = built.files["ifkg.nt"].decode()
    expected = rdflib.Graph().parse(data=nt, format="nt")
    assert len(expected) == len(built.compiled.triples())
    ttl = rdflib.Graph().parse(data=built.files["ifkg.ttl"].decode(), format="turtle")
    assert isomorphic(ttl, expected)


def test_load_gives_an_rdflib_dataset_with_the_union(project):
    import ifkg

    g = ifkg.load(str(project.root))
    rows = list(g.query("""PREFIX ifkg: <https://w3id.org/ifkg/def#>
        PREFIX schema: <https://schema.org/>
        SELECT ?v WHERE { ?m ifkg:about <https://w3id.org/ifkg/id/entity/shanghai-financing-guarantee-fund> ;
          ifkg:asOf ?d ; schema:value ?v } ORDER BY ?v"""))
    assert Decimal(str(rows[-1][0])) == Decimal("99450000000")


def test_show_prints_each_figure_with_its_marked_evidence(project):
    from cli_helpers import run_ifkg

    res = run_ifkg(project.root, "show", "Shanghai Municipal Policy-based Financing Guarantee Fund")
    assert res.returncode == 0, res.stderr
    assert "在保余额: 994.5 亿元 = 99450000000 CCY_CNY (exact, 2024-12-31)" in res.stdout
    assert "【截至2024年底，市担保基金在保余额994.5亿元】" in res.stdout
    assert "—launches/推出→ 临创保" in res.stdout
