from apps.accounts.selectors import notification_unread_count


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"unread_notifications": 0, "theme": "auto"}
    return {"unread_notifications": notification_unread_count(user=user), "theme": user.theme}
