"""CNN page: the MLP baseline vs LeNet-5 vs a modern CNN, on MNIST or Fashion-MNIST."""
import streamlit as st
from streamlit.errors import StreamlitAPIException

from engine import plots, registry, ui
from engine.inspect import vision as inspect_vision
from engine.plots import vision

card = registry.card("cnn")
ui.header(card)
specs = ui.config_form(card)
runs = ui.run_panel(card, specs)
ui.comparison(card, runs, curve_metrics=("train/loss", "val/acc"))
lang, tr = ui.language(), ui.tr

restored = ui.restored_all(runs)  # damaged runs are named, requeued and left out
runs = [r.run for r in restored]
if runs:
    dataset = runs[0]["spec"]["config"]["dataset"]
    found = {r.run["variant"]: r.artifacts for r in restored}
    models = {r.run["variant"]: r.model for r in restored}
    classes = found[runs[0]["variant"]]["classes"]

    st.subheader(tr("page.cnn.params_vs_acc"))
    table = ui.metrics_table(card, runs)
    st.plotly_chart(vision.params_vs_accuracy(table, lang=lang), width="stretch")
    best = table.loc[table["test/acc"].idxmax()]
    st.caption(tr("page.cnn.params_caption", points="; ".join(
        tr("page.cnn.params_point", variant=row.variant, acc=f"{row['test/acc']:.2%}",
           params=f"{row.params:,}") for _, row in table.iterrows()), best=best.variant))

    st.subheader(tr("page.cnn.first_layer"))
    panels = vision.first_layers({f"{variant}: " + tr("page.cnn.unit_weights" if variant == "mlp"
                                                      else "page.cnn.filters"):
                                  artifacts["filters"].numpy()
                                  for variant, artifacts in found.items()})
    for column, figure in zip(st.columns(len(panels)), panels):
        column.plotly_chart(figure, width="stretch")

    conv_variants = [v for v in models if v != "mlp"]
    if conv_variants:
        st.subheader(tr("page.cnn.feature_maps"))
        with ui.needs_data():  # a test image: the one part of the page that reads the dataset
            left, right = st.columns(2)
            variant = left.selectbox(tr("page.variant"), conv_variants, key="cnn:maps_variant")
            index = right.number_input(tr("page.cnn.test_image"), 0, 9999, 0,
                                       key="cnn:maps_index")
            image = inspect_vision.test_image(dataset, index)  # (28, 28) uint8
            maps = inspect_vision.feature_maps(models[variant], image, dataset)
            st.plotly_chart(vision.digit(image, tr("page.cnn.test_image_n", index=index)),
                            width="content")
            for figure in vision.feature_maps(maps, lang=lang):
                st.plotly_chart(figure, width="stretch")

    st.subheader(tr("page.cnn.draw"))
    st.caption(tr("page.cnn.draw_caption"))
    try:  # the canvas component registers only inside a Streamlit server
        from streamlit_drawable_canvas import st_canvas
    except (ImportError, StreamlitAPIException):
        st_canvas = None
    left, right = st.columns(2)
    with left:
        drawn = None
        if st_canvas is None:
            st.caption(tr("page.cnn.no_canvas"))
        else:
            drawn = st_canvas(stroke_width=22, stroke_color="#FFFFFF",
                              background_color="#000000", height=280, width=280,
                              drawing_mode="freedraw", return_image_data=True, key="cnn:canvas")
        upload = st.file_uploader(tr("page.cnn.upload"),
                                  type=["png", "jpg", "jpeg", "bmp", "gif", "webp"],
                                  key="cnn:upload")
    digit = None
    try:
        if upload is not None:
            digit = inspect_vision.mnist_style(inspect_vision.read_upload(upload.getvalue()))
        elif drawn is not None and drawn.image_data is not None and drawn.image_data[..., :3].any():
            digit = inspect_vision.mnist_style(drawn.image_data)
    except inspect_vision.BadImage as error:
        right.warning(error.text(lang))
    if digit is None:
        right.info(tr("page.cnn.draw_hint"))
    else:
        probs = inspect_vision.drawing_probabilities(models, digit, dataset)
        right.plotly_chart(vision.digit(digit, tr("page.cnn.what_models_see")), width="content")
        right.markdown("  \n".join(f"**{v}**: {classes[p.argmax()]} ({p.max():.0%})"
                                   for v, p in probs.items()))
        st.plotly_chart(vision.probabilities(probs, classes, lang), width="stretch")

    st.subheader(tr("page.wrong"))
    chosen = st.selectbox(tr("page.run"), runs, format_func=ui.label, key="cnn:inspect")
    artifacts = found[chosen["variant"]]
    mistakes = artifacts["mistakes"]
    titles = [tr("page.mistake", predicted=classes[p], confidence=f"{c:.0%}", true=classes[t])
              for p, c, t in zip(mistakes["predicted"].tolist(), mistakes["confidence"].tolist(),
                                 mistakes["true"].tolist())]
    left, right = st.columns(2)
    left.plotly_chart(plots.confusion(artifacts["confusion"].numpy(), classes,
                                      tr("page.confusion"), lang), width="stretch")
    right.plotly_chart(plots.image_grid(mistakes["image"].numpy(), titles, columns=4,
                                        title=tr("page.mistakes")), width="stretch")

ui.source(card)
