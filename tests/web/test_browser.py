"""The volunteers' pages in a real headless Chromium at phone size (360×740).

Run: `.venv/bin/pytest tests/web/test_browser.py` (or `-m browser`). Needs Debian's Chromium at
/usr/bin/chromium (`apt-get install -y chromium fonts-wqy-microhei`); without it these tests are
skipped with that message, except when the environment variable CI is set, where a missing browser
fails the run. Screenshots of the three main pages go to tests/screenshots/ (ignored by git).
"""

import datetime
import os
from pathlib import Path

import pytest

from pairing.models import ActivityLog, ReviewStatus
from pairing.services import return_activity

from .conftest import PASSWORD

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
INSTALL_HINT = f"Chromium not found at {CHROMIUM}: install it with `apt-get install -y chromium fonts-wqy-microhei`"
SCREENSHOTS = Path(__file__).resolve().parent.parent / "screenshots"
WIDTH, HEIGHT = 360, 740

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


@pytest.fixture(scope="module")
def browser():
    if not os.path.exists(CHROMIUM):
        if _in_ci():
            pytest.fail(INSTALL_HINT + " (required when CI is set)")
        pytest.skip(INSTALL_HINT)
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the tests' own database calls
    # are synchronous and safe here. Only for these tests: set here, removed afterwards.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        yield from _launched(sync_playwright)
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


def _launched(sync_playwright):
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--lang=zh-CN"],
        )
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, live_server, settings):
    settings.SESSION_COOKIE_SECURE = False  # the live server speaks plain HTTP
    settings.CSRF_COOKIE_SECURE = False
    context = browser.new_context(viewport={"width": WIDTH, "height": HEIGHT}, locale="zh-CN", base_url=live_server.url)
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors = []
    page.js_errors = errors  # a test expecting a 404 removes the browser's report of it
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    yield page
    context.close()
    assert not errors, f"JavaScript errors or CSP violations: {errors}"


def sign_in(page, username="13800000001", password=PASSWORD):
    page.goto("/login/")
    page.get_by_label("手机号码或用户名").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url("**/")


def fits_the_phone(page):
    """Nothing wider than the screen: no sideways scrolling at 360 px."""
    assert page.evaluate("document.documentElement.scrollWidth") <= WIDTH


def screenshot(page, name):
    SCREENSHOTS.mkdir(exist_ok=True)
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))
    page.screenshot(path=str(SCREENSHOTS / f"{name}-full.png"), full_page=True)


def test_sign_in_see_children_log_an_activity_and_find_it_submitted(page, world):
    sign_in(page)
    assert page.get_by_role("heading", name="张爱华,您好").is_visible()
    assert page.get_by_role("link", name="林小雨").is_visible()
    assert page.get_by_role("link", name="陈小花").is_visible()  # her team's child
    assert page.get_by_text("李小军").count() == 0
    fits_the_phone(page)
    screenshot(page, "1-home")

    page.get_by_role("navigation").get_by_role("link", name="记录活动").click()
    page.wait_for_url("**/log/")
    assert page.get_by_label("活动日期").input_value() == datetime.date.today().isoformat()
    page.get_by_label("林小雨", exact=True).check()
    page.get_by_label("帮扶类型").select_option("home_visit")
    page.get_by_label("时长(分钟)").fill("40")
    page.get_by_label("服务家长人次").fill("1")
    page.get_by_label("地点").fill("林小雨家")
    page.get_by_label("活动内容").fill("检查作业,和奶奶聊了孩子的学习情况。")
    fits_the_phone(page)
    screenshot(page, "2-log-form")
    page.get_by_role("button", name="提交记录").click()
    page.wait_for_url("**/logs/")
    assert page.get_by_text("帮扶记录已提交,等待妇联审核。").is_visible()
    assert page.locator(".badge.status-submitted").first.inner_text() == "已提交 · 待审核"
    fits_the_phone(page)
    screenshot(page, "3-my-logs")
    log = ActivityLog.objects.get()
    assert (log.volunteer, log.duration_minutes, log.place) == (world.alice, 40, "林小雨家")


def test_a_form_error_keeps_what_she_typed(page, world):
    sign_in(page)
    page.goto("/log/")
    # No child ticked, a date in the future.
    page.get_by_label("帮扶类型").select_option("study")
    tomorrow = (datetime.date.today() + datetime.timedelta(days=1)).isoformat()
    page.get_by_label("活动日期").fill(tomorrow)
    page.get_by_label("地点").fill("社区图书室")
    page.get_by_label("活动内容").fill("辅导数学")
    page.get_by_role("button", name="提交记录").click()
    page.wait_for_load_state()
    assert page.locator("#id_pairings-error").inner_text() == "请至少选择一名儿童。"
    assert page.locator("#id_date-error").inner_text() == "活动日期不能晚于今天。"
    assert page.get_by_label("地点").input_value() == "社区图书室"
    assert page.get_by_label("活动内容").input_value() == "辅导数学"
    assert page.get_by_label("帮扶类型").input_value() == "study"
    assert page.get_by_label("活动日期").get_attribute("aria-invalid") == "true"
    fits_the_phone(page)
    assert not ActivityLog.objects.exists()


def test_a_draft_survives_a_reload_and_is_cleared_after_saving(page, world):
    sign_in(page)
    page.goto("/log/")
    page.get_by_label("王小明", exact=True).check()
    page.get_by_label("活动内容").fill("电话问候,孩子期中考试进步了")
    page.get_by_label("地点").fill("电话")
    page.reload()  # a lost connection, a closed tab
    assert page.locator("#draft-note").is_visible()
    assert page.get_by_label("活动内容").input_value() == "电话问候,孩子期中考试进步了"
    assert page.get_by_label("王小明", exact=True).is_checked()
    page.get_by_role("button", name="清除草稿").click()
    assert page.get_by_label("活动内容").input_value() == ""
    assert not page.locator("#draft-note").is_visible()

    page.get_by_label("活动内容").fill("第二次家访")
    page.get_by_label("王小明", exact=True).check()
    page.get_by_label("帮扶类型").select_option("home_visit")
    page.get_by_role("button", name="提交记录").click()
    page.wait_for_url("**/logs/")
    page.goto("/log/")
    assert not page.locator("#draft-note").is_visible()
    assert page.get_by_label("活动内容").input_value() == ""


def test_a_double_click_files_one_log(page, world):
    sign_in(page)
    page.goto("/log/")
    page.get_by_label("林小雨", exact=True).check()
    page.get_by_label("帮扶类型").select_option("daily_life")
    page.get_by_role("button", name="提交记录").dblclick()
    page.wait_for_url("**/logs/")
    assert ActivityLog.objects.count() == 1


def test_staff_return_shows_the_comment_and_she_edits_and_resubmits(page, world):
    log = world.log(child=world.alice_green, duration_minutes=600)
    return_activity(activity=log, by=world.staff, comment="时长600分钟偏长,请核对。")
    sign_in(page)
    page.get_by_role("navigation").get_by_role("link", name="我的记录").click()
    card = page.locator(f'[data-log="{log.pk}"]')
    assert "已退回,请修改" in card.inner_text()
    assert "时长600分钟偏长,请核对。" in card.inner_text()
    card.get_by_role("link", name="修改").click()
    assert page.get_by_text("时长600分钟偏长,请核对。").is_visible()
    page.get_by_label("时长(分钟)").fill("60")
    page.get_by_role("button", name="保存并重新提交").click()
    page.wait_for_url("**/logs/")
    card = page.locator(f'[data-log="{log.pk}"]')
    assert "已提交 · 待审核" in card.inner_text()
    assert "请核对" not in card.inner_text()
    log.refresh_from_db()
    assert (log.status, log.duration_minutes) == (ReviewStatus.SUBMITTED, 60)


def test_she_cannot_open_another_volunteers_child(page, world):
    sign_in(page)
    response = page.goto(f"/children/{world.bob_child.pk}/")
    assert response.status == 404
    assert page.get_by_role("heading", name="页面不存在").is_visible()
    assert page.get_by_text("李小军").count() == 0
    page.js_errors.remove("Failed to load resource: the server responded with a status of 404 (Not Found)")
    response = page.goto(f"/children/{world.alice_red.pk}/")
    assert response.status == 200
