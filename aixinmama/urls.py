from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    # Switching the interface language (Chinese by default, English available).
    path("i18n/", include("django.conf.urls.i18n")),
    # The volunteers' pages: "/" is her home (staff are sent on to /admin/), /login/, /logout/, /password/.
    path("", include("pairing.urls")),
]

handler404 = "pairing.volunteer_views.page_not_found"
