from django_smsgo.models import Message
from tests.admin.conftest import ADD, CHANGELIST


def test_pages_render(client_as, sender, make_message):
    message = make_message(5)
    client = client_as(sender)
    assert client.get(CHANGELIST).status_code == 200
    assert client.get(ADD).status_code == 200
    response = client.get(f"{CHANGELIST}{message.pk}/change/")
    assert response.status_code == 200
    assert Message.objects.count() == 1
