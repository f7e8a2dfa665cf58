"""CNN page: the MLP baseline vs LeNet-5 vs a modern CNN, on MNIST or Fashion-MNIST."""
import streamlit as st
import torch
from streamlit.errors import StreamlitAPIException

from engine import plots, registry, ui
from engine.algorithms import cnn, image_classifier
from engine.data.drawing import BadImage, mnist_style, read_upload
from engine.data.images import load_images, normalise
from engine.plots import vision

card = registry.card("cnn")
ui.header(card)
specs = ui.config_form(card)
runs = ui.run_panel(card, specs)
ui.comparison(card, runs, curve_metrics=("train/loss", "val/acc"))

if runs:
    dataset = runs[0]["spec"]["config"]["dataset"]
    found = {run["variant"]: ui.artifacts(run) for run in runs}
    if any(a is None for a in found.values()):
        st.warning("A run's stored files were damaged; it has been queued to recompute.")
        st.stop()
    models = {run["variant"]: cnn.restore_model(run["variant"], run["spec"]["config"],
                                                found[run["variant"]]["state_dict"])
              for run in runs}
    classes = found[runs[0]["variant"]]["classes"]

    st.subheader("Parameters vs accuracy")
    st.plotly_chart(vision.params_vs_accuracy(ui.metrics_table(card, runs)), width="stretch")
    st.caption("Each variant is a point: convolutions reach higher accuracy with far fewer "
               "parameters than the fully connected baseline.")

    st.subheader("What the first layer learned")
    for column, (variant, artifacts) in zip(st.columns(len(found)), found.items()):
        kind = "hidden-unit weights (28x28)" if variant == "mlp" else "filters"
        column.plotly_chart(vision.filters(artifacts["filters"].numpy(), f"{variant}: {kind}"),
                            width="stretch")

    conv_variants = [v for v in models if v != "mlp"]
    if conv_variants:
        st.subheader("Feature maps, layer by layer")
        left, right = st.columns(2)
        variant = left.selectbox("Variant", conv_variants, key="cnn:maps_variant")
        index = right.number_input("Test image", 0, 9999, 0, key="cnn:maps_index")
        image = load_images(dataset).test_x[index]  # (28, 28) uint8
        maps = cnn.feature_maps(models[variant], normalise(image[None], dataset))
        st.plotly_chart(vision.digit(image.numpy(), f"test image {index}"), width="content")
        for figure in vision.feature_maps([(name, m.numpy()) for name, m in maps]):
            st.plotly_chart(figure, width="stretch")

    st.subheader("Draw a digit")
    st.caption("Every trained variant classifies it. The drawing is prepared the way MNIST "
               "digits were: fitted into 20x20 pixels and centred by mass in 28x28.")
    try:  # the canvas component registers only inside a Streamlit server
        from streamlit_drawable_canvas import st_canvas
    except (ImportError, StreamlitAPIException):
        st_canvas = None
    left, right = st.columns(2)
    with left:
        drawn = None
        if st_canvas is None:
            st.caption("The drawing canvas is not available here; upload an image instead.")
        else:
            drawn = st_canvas(stroke_width=22, stroke_color="#FFFFFF",
                              background_color="#000000", height=280, width=280,
                              drawing_mode="freedraw", return_image_data=True, key="cnn:canvas")
        upload = st.file_uploader("...or upload a small image of one digit",
                                  type=["png", "jpg", "jpeg", "bmp", "gif", "webp"],
                                  key="cnn:upload")
    digit = None
    try:
        if upload is not None:
            digit = mnist_style(read_upload(upload.getvalue()))
        elif drawn is not None and drawn.image_data is not None and drawn.image_data[..., :3].any():
            digit = mnist_style(drawn.image_data)
    except BadImage as error:
        right.warning(str(error))
    if digit is None:
        right.info("Draw on the black square (or upload an image) to see the predictions.")
    else:
        batch = torch.from_numpy(digit)[None]  # (1, 28, 28) uint8
        probs = {v: image_classifier.predict_probabilities(m, batch, dataset)[0].numpy()
                 for v, m in models.items()}
        right.plotly_chart(vision.digit(digit), width="content")
        right.markdown("  \n".join(f"**{v}**: {classes[p.argmax()]} ({p.max():.0%})"
                                   for v, p in probs.items()))
        st.plotly_chart(vision.probabilities(probs, classes), width="stretch")

    st.subheader("Where each variant goes wrong")
    chosen = st.selectbox("Run", runs, format_func=ui.label, key="cnn:inspect")
    artifacts = found[chosen["variant"]]
    mistakes = artifacts["mistakes"]
    titles = [f"{classes[p]} ({c:.0%}), true {classes[t]}"
              for p, c, t in zip(mistakes["predicted"].tolist(), mistakes["confidence"].tolist(),
                                 mistakes["true"].tolist())]
    left, right = st.columns(2)
    left.plotly_chart(plots.confusion(artifacts["confusion"].numpy(), classes,
                                      "Confusion matrix (test set)"), width="stretch")
    right.plotly_chart(plots.image_grid(mistakes["image"].numpy(), titles, columns=4,
                                        title="Most confident mistakes"), width="stretch")

ui.source(cnn.build_model, image_classifier.train_classifier)
