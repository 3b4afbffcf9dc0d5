from django import template

from apps.paths import selectors

register = template.Library()


@register.inclusion_tag("paths/partials/playlist_picker.html", takes_context=True)
def playlist_picker(context, version):
    """Render the "add to playlist" form for ``version`` with the user's own playlists."""
    request = context["request"]
    user = request.user
    playlists = (
        list(selectors.playlist_list_owned(user=user).select_related(None).prefetch_related(None).only("id", "title"))
        if user.is_authenticated
        else []
    )
    return {"version": version, "playlists": playlists, "user": user, "next": request.get_full_path(),
            "csrf_token": context.get("csrf_token")}  # fmt: skip
