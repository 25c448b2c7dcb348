import pytest

from leifeng.people import selectors
from leifeng.people.models import Skill
from leifeng.people.selectors import VolunteerFilters, volunteer_list
from leifeng.testing import VolunteerFactory


@pytest.fixture
def people(tree):
    """Four volunteers in sub_a and one in sub_b, with names that share letters."""
    first_aid = Skill.objects.create(name="急救")
    zw = VolunteerFactory(org=tree.st_a1, name="张伟", number="LF000000101", phone="13900000101")
    zw.skills.add(first_aid)
    return {
        "zw": zw,
        "zwm": VolunteerFactory(org=tree.st_a2, name="赵文明", number="LF000000102", phone="13900000102"),
        "wf": VolunteerFactory(
            org=tree.st_a1,
            name="王芳",
            number="LF000000103",
            phone="13700000103",
            status="pending",
            political_status="cpc",
            in_service_party_member=True,
        ),
        "zs": VolunteerFactory(org=tree.st_a2, name="张三丰", number="LF000000104", phone="13900000104"),
        "far": VolunteerFactory(org=tree.st_b1, name="张伟", number="LF000000105", phone="13900000105"),
    }


def found(actor, **filters) -> set[str]:
    return {v.name + v.number[-1] for v in volunteer_list(actor=actor, filters=VolunteerFilters(**filters))}


@pytest.mark.parametrize(
    "term,expected",
    [
        ("张", {"张伟1", "张三丰4"}),  # surname
        ("张伟", {"张伟1"}),  # full name
        ("zw", {"张伟1", "赵文明2"}),  # initials: 张伟 and 赵文明 both start z-w
        ("ZWM", {"赵文明2"}),
        ("zhangwei", {"张伟1"}),  # full pinyin
        ("zhang wei", {"张伟1"}),
        ("zhang", {"张伟1", "张三丰4"}),
        ("LF000000103", {"王芳3"}),  # volunteer number
        ("lf000000103", {"王芳3"}),
        ("13900000102", {"赵文明2"}),  # phone
        ("+86 139 0000 0102", {"赵文明2"}),
        ("1370000", {"王芳3"}),  # phone prefix
        ("李", set()),
    ],
)
def test_one_search_box(people, center_admin, owner, term, expected):
    sub_a = {n for n in expected if not n.endswith("5")}
    assert found(center_admin, q=term) - {"张伟5"} == sub_a
    # the outsider's namesake is found only by someone whose scope includes it
    assert "张伟5" in found(center_admin, q="张伟")
    assert found(owner, q=term) == {n for n in sub_a if n[-1] in "13"}


def test_a_full_id_number_is_found_through_the_blind_index(people, owner):
    from leifeng.core import crypto

    ric = crypto.decrypt(people["wf"].id_number_encrypted)
    assert found(owner, q=ric) == {"王芳3"}
    assert found(owner, q=ric.lower()) == {"王芳3"}
    assert found(owner, q=ric[:-1] + ("0" if ric[-1] != "0" else "1")) == set()  # a wrong check digit


def test_filters(people, center_admin, tree):
    assert found(center_admin, status="pending") == {"王芳3"}
    assert found(center_admin, political_status="cpc") == {"王芳3"}
    assert found(center_admin, in_service_party_member=True) == {"王芳3"}
    assert found(center_admin, skill="急救") == {"张伟1"}
    assert found(center_admin, org_id=tree.st_a2.pk) == {"赵文明2", "张三丰4"}
    assert found(center_admin, org_id=tree.sub_b.pk) == {"张伟5"}
    assert found(center_admin, org_id=tree.sub_a.pk, q="zw") == {"张伟1", "赵文明2"}


def test_scope_and_org_filter_outside_scope(people, owner, outsider, assessor, tree):
    assert found(owner) == {"张伟1", "王芳3"}
    assert found(outsider) == {"张伟5"}
    assert found(assessor) == {"张伟1", "赵文明2", "王芳3", "张三丰4"}
    assert found(owner, org_id=tree.st_b1.pk) == set()  # a node outside the scope filters to nothing


def test_from_params_ignores_garbage():
    params = {"q": " 张 ", "org": "x1", "in_service_party_member": "maybe", "status": "pending"}
    assert VolunteerFilters.from_params(params) == VolunteerFilters(q="张", status="pending")
    assert VolunteerFilters.from_params({"in_service_party_member": "1", "org": "7"}) == VolunteerFilters(
        org_id=7, in_service_party_member=True
    )


def test_count_is_capped_and_paging_goes_on(people, center_admin):
    paginator = selectors.CappedPaginator(volunteer_list(actor=center_admin), 2, cap=3)
    assert (paginator.count, paginator.capped) == (3, True)
    pages = [paginator.get_page(n) for n in (1, 2, 3, 4)]
    assert [len(p) for p in pages] == [2, 2, 1, 0]  # five volunteers, although only three were counted
    assert [p.has_next() for p in pages] == [True, True, False, False]
    assert paginator.get_page("x").number == 1
    paginator = selectors.CappedPaginator(volunteer_list(actor=center_admin), 2, cap=10)
    assert (paginator.count, paginator.capped, paginator.num_pages) == (5, False, 3)
    assert paginator.get_page(9).number == 3  # past the end of a counted list: its last page


def test_station_choices_group_by_sub_center(tree, owner):
    assert selectors.station_choices() == [  # in tree order (siblings sorted by name)
        ("城关镇分中心", [(tree.st_b1.pk, "北村站")]),
        ("长安街道分中心", [(tree.st_a1.pk, "东关社区站"), (tree.st_a2.pk, "西街社区站")]),
    ]
    assert selectors.station_choices(actor=owner, perm=selectors.Perm.CHANGE) == [
        ("长安街道分中心", [(tree.st_a1.pk, "东关社区站")])
    ]
