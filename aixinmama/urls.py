from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    # The volunteers' pages: "/" is her home (staff are sent on to /admin/), /login/, /logout/, /password/.
    path("", include("pairing.urls")),
]

handler404 = "pairing.volunteer_views.page_not_found"
