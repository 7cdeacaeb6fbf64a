extension PayloadElements {
    /// The attachment elements of the FTS album of formats (5.23.0) and of the EEC's schemas
    /// it carries, read from the album's XSDs; `schemas/README.md` lists them with the type
    /// and documentation each has there. Every version of each namespace (`:*`, `:v*`).
    public static let defaults = PayloadElements(defaultEntries.flatMap { namespace, paths in
        paths.map { path in
            // The table below is Kordon's own; a typo in it is a programming error.
            guard let element = try? Element(namespace: namespace, path: path) else {
                preconditionFailure("bad default payload element \(namespace) \(path)")
            }
            return element
        }
    })

    /// Namespace family → element paths.
    static let defaultEntries: [(String, [String])] = [
        // FTS, typed clt_ru:Text3MB (Text4MB in ScanAttributeList): "Данные файла в кодировке BASE64".
        ("urn:customs.ru:Information:CustomsDocuments:FreeBinaryDoc:*", ["DocumentBody/FileData"]),
        ("urn:customs.ru:Information:CustomsDocuments:ScanAttributeList:*", ["DocumentBody/FileData"]),
        ("urn:customs.ru:Information:ExchangeDocuments:PetitionToFTS:*", ["DocumentBody/FileData"]),
        ("urn:customs.ru:Information:RegistrationDocuments:ApplicationCustomsCarrierRegistry:*", ["DocumentBody/FileData"]),
        ("urn:customs.ru:Information:RegistrationDocuments:ApplicationCustomsWarehousesRegistry:*", ["DocumentBody/FileData"]),
        ("urn:customs.ru:Information:RegistrationDocuments:ApplicationDutyFreeShopRegistry:*", ["DocumentBody/FileData"]),
        ("urn:customs.ru:Information:RegistrationDocuments:ApplicationFreeWarehousesRegistry:*", ["DocumentBody/FileData"]),
        ("urn:customs.ru:Information:RegistrationDocuments:ApplicationWarehouseOwnersRegistry:*", ["DocumentBody/FileData"]),
        ("urn:customs.ru:Information:SQDocuments:FsTekConclPermit:*", ["ConslusionsDocument/FileData"]),
        ("urn:customs.ru:Information:SQDocuments:FsVtsTekLicense:*", ["ConslusionsDocument/FileData"]),
        // FTS, AttachedFile/FileContent typed Text3MB: "Содержимое файла в формате Base64".
        ("urn:customs.ru:Information:CustomsDocuments:ActAuditAccountSystem:*", ["AttachedFile/FileContent"]),
        ("urn:customs.ru:Information:CustomsDocuments:DecisionMoveFreeWHGoods:*", ["AttachedFile/FileContent"]),
        ("urn:customs.ru:Information:CustomsAuditDocuments:DecisionPerformAuditField:*", ["AttachedFile/FileContent"]),
        ("urn:customs.ru:Information:CustomsAuditDocuments:NotifPerformAudit:*", ["AttachedFile/FileContent"]),
        ("urn:customs.ru:Information:CustomsAuditDocuments:PermissionUseArrestedGoods:*", ["AttachedFile/FileContent"]),
        ("urn:customs.ru:Information:CustomsAuditDocuments:ReqDoc4Audit:*", ["AttachedFile/FileContent"]),
        ("urn:customs.ru:Information:CustomsAuditDocuments:ResolutionAudit:*", ["AttachedFile/FileContent"]),
        // FTS, typed CategoryCust:BinaryDataCategoriesCust (base64Binary): a PDF "в Base64".
        ("urn:customs.ru:Information:RegistrationDocuments:AppInclAEORegistry:*", ["FileContent"]),
        // FTS, Base typed Text3MB/Text10MB: "Файл в формате base64". In IntellectualProperty and
        // IntellectualPropertyDecision a Base elsewhere is prose ("Суть обращения"), hence the parent.
        ("urn:customs.ru:Information:CustomsDocuments:AditionalInformation:*", ["AppliedDocument/Base"]),
        ("urn:customs.ru:Information:CustomsDocuments:NotificationTRP:*", ["AppliedDocument/Base"]),
        ("urn:customs.ru:ApplicPrelimOriginCountry:*", ["AppliedDocument/Base"]),
        ("urn:customs.ru:GoodsClassification:*", ["Base"]),
        ("urn:customs.ru:IntellectualProperty:*", ["AppliedDocument/Base"]),
        ("urn:customs.ru:IntellectualPropertyDecision:*", ["AppliedDocument/Base"]),
        // FTS, photographs of an inspection: Image typed aip:Text99MB ("Данные в кодировке base64"),
        // Preview typed ATDcat:Text50kB ("Миниатюрное изображение"), in ActInspPhoto and AddActInsp.
        ("urn:customs.ru:Information:CustomsDocuments:ActInspPhoto:*", ["PreviewInfo/Image"]),
        ("urn:customs.ru:Information:CustomsDocuments:ATDCommon:*", ["PreviewInfo/Preview"]),
        // EEC, typed base64Binary (csdo:BinaryTextType, csdo:Picture10MbType): listed as well, so that
        // they are decoded where no schema of theirs is in force (inside a container's xs:any).
        ("urn:EEC:M:SimpleDataObjects:v*", ["DocBinaryText"]),
        ("urn:EEC:M:CA:SimpleDataObjects:v*", ["SignatureImagePicture", "StampImagePicture"]),
        // XML signatures over signed documents (W3C XML-DSig: base64Binary, no schema in the album).
        ("http://www.w3.org/2000/09/xmldsig#", ["SignatureValue", "X509Certificate", "X509CRL"]),
    ]
}
