from django.http import HttpResponse


def volunteer_import(request):
    return HttpResponse("TODO")


def volunteer_import_template(request):
    return HttpResponse("TODO")


def volunteer_export(request):
    return HttpResponse("TODO")
