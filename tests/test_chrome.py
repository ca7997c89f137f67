"""The page frame's navigation is rendered once per role and language: each still gets its own."""
import re

from tracker.auth.models import Role


def nav_links(page) -> list[str]:
    nav = re.search(r'<nav id="main-nav" aria-label="[^"]+">(.*?)</nav>', page.text, re.S).group(1)
    return re.findall(r'<a href="([^"]+)"', nav)


def test_each_role_sees_its_own_links_whatever_was_rendered_before(login_as, make):
    admin, head = login_as(make.user(Role.ADMIN)), login_as(make.user(Role.HEAD))
    leader = login_as(make.user(Role.LEADER))
    for _ in range(2):                                   # the second round is served from the cache
        assert "/admin/users" in nav_links(admin.get("/items"))
        assert "/my" not in nav_links(admin.get("/items"))
        assert "/admin/users" not in nav_links(head.get("/items")) and "/my" in nav_links(head.get("/items"))
        assert "/review" in nav_links(leader.get("/items")) and "/review" not in nav_links(head.get("/items"))
        assert "/admin/users" not in nav_links(leader.get("/items"))


def test_the_navigation_follows_the_language(login_as, make):
    admin = login_as(make.user(Role.ADMIN))
    assert re.search(r'<nav id="main-nav" aria-label="主导航">.*>整改台账</a>', admin.get("/items").text, re.S)
    assert re.search(r'<nav id="main-nav" aria-label="Main">.*>Ledger</a>', admin.get("/items?lang=en").text, re.S)
    assert re.search(r'<nav id="main-nav" aria-label="主导航">.*>整改台账</a>', admin.get("/items?lang=zh_CN").text, re.S)
