"""The back office speaks Russian first and switches to English from its own header."""

from django.test import Client
from django.urls import reverse


def test_the_admin_switches_between_russian_and_english(officer_27):
    client = Client()
    client.force_login(officer_27)

    russian = client.get(reverse("admin:index")).content.decode()
    assert 'name="language"' in russian
    assert "Социальное казначейство" in russian

    client.post(reverse("set_language"), {"language": "en", "next": reverse("admin:index")})
    english = client.get(reverse("admin:index")).content.decode()
    assert "Social Treasury: back office" in english
