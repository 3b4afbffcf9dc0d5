"""Translations stay complete, and money, numbers and durations follow the active language.

The checks of issue 23, in the test command: no user-visible text outside translation tags in the
templates, `makemessages` would not change the catalogs, and the Malay catalog has no untranslated
or fuzzy entry (`msgfmt -c --statistics`). Each check is also tested on small fixtures.
"""

import shutil
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.template import Context, Template
from django.utils import translation

from rangex.core import i18n_check
from rangex.templatetags.money import duration_long_text, duration_text, rm_text, usd_text

LOCALE = Path(settings.BASE_DIR) / "locale"


# --- Money, durations, formats ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "value", "text"),
    [
        ("en", Decimal("1234.5"), "RM 1,234.50"),
        ("ms", Decimal("1234.5"), "RM1,234.50"),
        ("en", "0", "RM 0.00"),
        ("ms", 1234567.891, "RM1,234,567.89"),
        ("en", Decimal("-12.345"), "RM -12.35"),
        ("en", None, ""),
        ("en", "n/a", ""),
    ],
)
def test_rm(language, value, text):
    with translation.override(language):
        assert rm_text(value) == text


@pytest.mark.parametrize(("language", "text"), [("en", "USD 12.34"), ("ms", "USD12.34")])
def test_usd(language, text):
    with translation.override(language):
        assert usd_text("12.339") == text


@pytest.mark.parametrize(
    ("language", "seconds", "short", "long"),
    [
        ("en", 3900, "1 h 5 min", "1 hour 5 minutes"),
        ("ms", 3900, "1 j 5 min", "1 jam 5 minit"),
        ("en", 7200, "2 h", "2 hours"),
        ("ms", 7200, "2 j", "2 jam"),
        ("en", 60, "1 min", "1 minute"),
        ("ms", 720, "12 min", "12 minit"),
        ("en", 1, "1 s", "1 second"),
        ("ms", 40, "40 saat", "40 saat"),
    ],
)
def test_durations(language, seconds, short, long):
    with translation.override(language):
        assert duration_text(seconds) == short
        assert duration_long_text(seconds) == long


def test_filters_in_templates_and_dates_follow_the_language():
    template = Template(
        "{% load money rangex %}{{ amount|rm }} | {{ amount|usd }} | {{ s|duration }} | {{ s|duration_long }}"
        " | {{ when|date }} | {{ when|date:'YEAR_MONTH_FORMAT' }}"
    )
    from datetime import date

    context = Context({"amount": Decimal("2500"), "s": 5400, "when": date(2026, 3, 10)})
    with translation.override("en"):
        english = template.render(context)
    with translation.override("ms"):
        malay = template.render(context)
    assert english == "RM 2,500.00 | USD 2,500.00 | 1 h 30 min | 1 hour 30 minutes | March 10, 2026 | March 2026"
    assert malay == "RM2,500.00 | USD2,500.00 | 1 j 30 min | 1 jam 30 minit | 10 Mar 2026 | Mac 2026"


# --- The template check, on fixtures ------------------------------------------------------------

BAD = """{% load i18n %}<!doctype html>
<h1>Start lab</h1>
<p>{% translate "Fine" %} but this is not</p>
<img src="x.png" alt="A diagram">
<input type="submit" value="Save">
<button title="Close it" aria-label="{% translate 'Close' %}">&times;</button>
<input placeholder="Search scenarios">
"""

GOOD = """{% load i18n static %}<!doctype html>
{# A comment with words #}{% comment %}More words{% endcomment %}
<!-- an HTML comment with words -->
<h1>{% translate "Start lab" %}</h1>
<p>{% blocktranslate with title=s.title %}Lab {{ title }}
stopped.{% endblocktranslate %} {{ user.public_name }} · 42 % RangeX SSH API &nbsp; &copy;</p>
<script>const words = "not visible";</script><style>.x::after { content: "none" }</style>
<img src="{% static 'x.png' %}" alt="{% translate 'A diagram' %}">
<input type="text" value="a value typed by the user" name="q" placeholder="{{ hint }}">
<span>Kali Linux</span>{# i18n: ok #}
{% if x %}<a href="/a" title="{% translate 'Open' %}">{% translate "Open" %}</a>{% endif %}
<td class="{% if ok %}rx-pass">{% translate "PASS" %}{% else %}rx-fail">{% translate "FAIL" %}{% endif %}</td>
<span>v{{ n }} rx_{{ key }}_… JSON (CTFtime)</span>
"""


def test_the_template_check_finds_text_outside_translation_tags():
    found = [str(problem) for problem in i18n_check.template_problems(BAD)]
    assert found == [
        "line 2: Start lab",
        "line 3: § but this is not",
        'line 4: alt="A diagram"',
        'line 5: value="Save"',
        'line 6: title="Close it"',
        'line 7: placeholder="Search scenarios"',
    ]


def test_the_template_check_passes_translated_templates():
    assert i18n_check.template_problems(GOOD) == []


def test_the_template_check_reads_plain_text_emails():
    assert i18n_check.template_problems("Hello {{ name }}\n{% url 'x' %}", html=False)[0].line == 1
    assert i18n_check.template_problems('{% load i18n %}{% translate "Hello" %} {{ name }}', html=False) == []


# --- The catalog checks, on fixtures ----------------------------------------------------------

PO = """msgid ""
msgstr ""
"Language: ms\\n"
"Content-Type: text/plain; charset=UTF-8\\n"
"Plural-Forms: nplurals=1; plural=0;\\n"

msgid "Start lab"
msgstr "Mulakan makmal"

msgid "Stop"
msgstr ""

#, fuzzy
msgid "Pause"
msgstr "Jeda"

#, python-format
msgid "Lab %(title)s stopped."
msgstr "Makmal %(tajuk)s dihentikan."
"""


def test_catalog_statistics_count_untranslated_fuzzy_and_format_errors(tmp_path):
    po = tmp_path / "django.po"
    po.write_text(PO, encoding="utf-8")
    stats = i18n_check.catalog_statistics(po)
    assert (stats["untranslated"], stats["fuzzy"]) == (1, 1)
    assert not stats["ok"]  # the placeholder was translated
    assert i18n_check.untranslated_entries(po) == {"untranslated": ["Stop"], "fuzzy": ["Pause"]}


def test_catalog_drift_names_new_msgids(tmp_path):
    project = tmp_path / "project"
    shutil.copytree(settings.BASE_DIR, project, ignore=i18n_check.copy_ignore(Path(settings.BASE_DIR)))
    (project / "templates" / "i18n_fixture.html").write_text('{% load i18n %}{% translate "A brand new string" %}')
    drift = i18n_check.catalog_drift(project)
    assert drift["ms/django.po"]["new"] == ["A brand new string"]
    assert drift["en/django.po"]["new"] == ["A brand new string"]


def test_compile_catalogs_writes_missing_and_stale_mo_only(tmp_path):
    folder = tmp_path / "ms" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    (folder / "django.po").write_text(PO.replace("%(tajuk)s", "%(title)s"), encoding="utf-8")
    assert i18n_check.compile_catalogs(tmp_path) == [folder / "django.mo"]
    assert i18n_check.compile_catalogs(tmp_path) == []


# --- The checks on the project ----------------------------------------------------------------


def test_every_template_text_is_inside_a_translation_tag():
    problems = i18n_check.check_templates()
    listing = "\n".join(f"{name} {problem}" for name, found in problems.items() for problem in found[:3])
    assert not problems, f"{len(problems)} templates have text outside translation tags:\n{listing}"


def test_makemessages_would_not_change_the_catalogs():
    drift = i18n_check.catalog_drift()
    assert not drift, f"Run the catalog commands of locale/README.md; makemessages would change: {drift}"


@pytest.mark.parametrize("domain", ["django", "djangojs"])
def test_the_malay_catalog_is_complete(domain):
    po = LOCALE / "ms" / "LC_MESSAGES" / f"{domain}.po"
    if not po.exists():
        assert domain == "djangojs", "locale/ms/LC_MESSAGES/django.po is missing"
        pytest.skip("no JavaScript string is marked yet")
    stats = i18n_check.catalog_statistics(po)
    missing = i18n_check.untranslated_entries(po)
    assert stats["ok"], stats["errors"]
    assert stats["untranslated"] == 0 and stats["fuzzy"] == 0, missing


def test_the_catalogs_are_compiled_for_the_session():
    for po in LOCALE.glob("*/LC_MESSAGES/*.po"):
        mo = po.with_suffix(".mo")
        assert mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime, f"{mo} is missing or stale"


def test_django_strings_missing_from_its_malay_catalog_are_translated_in_ours():
    from django.contrib.auth.password_validation import MinimumLengthValidator
    from django.core.exceptions import ValidationError

    with translation.override("ms"):
        assert translation.gettext("Skip to main content") == "Langkau ke kandungan utama"
        with pytest.raises(ValidationError) as refused:
            MinimumLengthValidator(10).validate("abc")
    malay = "Kata laluan ini terlalu pendek. Ia mesti mengandungi sekurang-kurangnya 10 aksara."
    assert refused.value.messages == [malay]
